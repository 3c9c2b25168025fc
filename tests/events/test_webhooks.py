"""Webhooks against a real receiver on 127.0.0.1: signatures, retries, a receiver down for a
while, a resolver failing for a while, redirects never followed, visibility checked at delivery,
nothing sealed sent, and a watch list whose secret no longer unseals holding up no other."""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from exchange_api.models.agencies import Client
from exchange_api.models.events import Subscription, WebhookDelivery
from tests.alerts.builders import EXPORTER_NAME, alert_body, minimal_body
from tests.alerts.http import Desk, open_desk, push
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Serving
from tests.events.receiver import Receiver, free_port, receiving, verify_standard_webhook

NARRATIVE = "Driver said the drums came from a warehouse in Rotterdam"
PARTY = EXPORTER_NAME


@pytest.fixture
async def hooked(serving: Serving) -> AsyncIterator[tuple[httpx.AsyncClient, Desk, Desk]]:
    async with serving(webhook_allow_hosts="127.0.0.1", webhook_first_retry=0.2) as (
        client,
        registry,
    ):
        customs = await open_desk(registry, client, "customs", "BE")
        industry = await open_desk(registry, client, "industry", "DE")
        yield client, customs, industry


async def subscribe(client: httpx.AsyncClient, desk: Desk, url: str) -> dict[str, Any]:
    body = {"name": "hook", "webhook": {"url": url}}
    response = await client.post("/v1/subscriptions", json=body, headers=desk.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def wait_for(predicate: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def deliveries(
    client: httpx.AsyncClient, desk: Desk, subscription: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/subscriptions/{subscription}/deliveries", headers=desk.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_signed_delivery_retried_after_a_500(
    hooked: tuple[httpx.AsyncClient, Desk, Desk],
) -> None:
    client, customs, _ = hooked
    answers = iter([500])
    receiver = Receiver(free_port(), answer=lambda _r: (next(answers, 200), {}))
    with receiving(receiver):
        created = await subscribe(client, customs, receiver.url)
        alert = await push(client, customs, alert_body(narrative=NARRATIVE))
        await wait_for(lambda: len(receiver.received) >= 2)
        first, second = receiver.received[:2]
        for got in (first, second):
            assert verify_standard_webhook(created["secret"], got.headers, got.body)
            assert NARRATIVE.encode() not in got.body
        assert first.headers["webhook-id"] == second.headers["webhook-id"]  # same event
        event = json.loads(second.body)
        assert event["alert_id"] == alert
        assert event["type"] == "alert.created"
        assert event["subscriptions"] == [created["id"]]
        assert event["id"] == second.headers["webhook-id"]
        assert abs(int(second.headers["webhook-timestamp"]) - time.time()) < 60
        # The tampered body does not verify.
        assert not verify_standard_webhook(created["secret"], second.headers, second.body + b" ")
        for _ in range(100):
            log = await deliveries(client, customs, created["id"])
            if log and log[0]["state"] == "delivered":
                break
            await asyncio.sleep(0.05)
        assert log[0]["state"] == "delivered"
        assert log[0]["attempts"] == 2
        assert log[0]["last_status"] == 200
        assert log[0]["event_id"] == event["id"]


async def test_a_receiver_down_for_a_while_gets_everything_once_back(
    hooked: tuple[httpx.AsyncClient, Desk, Desk],
) -> None:
    client, customs, _ = hooked
    receiver = Receiver(free_port())
    created = await subscribe(client, customs, receiver.url)
    alerts = {await push(client, customs, minimal_body()) for _ in range(3)}
    await asyncio.sleep(1.0)  # attempts fail: nothing listens
    with receiving(receiver):
        await wait_for(lambda: len({r.headers["webhook-id"] for r in receiver.received}) >= 3)
        await asyncio.sleep(0.5)
    got = {json.loads(r.body)["alert_id"] for r in receiver.received}
    assert got == alerts
    assert len(receiver.received) == 3  # once each
    log = await deliveries(client, customs, created["id"])
    assert {item["state"] for item in log} == {"delivered"}
    assert all(item["attempts"] >= 2 for item in log)


async def test_a_redirect_is_a_failed_delivery_and_is_never_followed(
    hooked: tuple[httpx.AsyncClient, Desk, Desk],
) -> None:
    client, customs, _ = hooked
    receiver = Receiver(free_port())
    receiver.answer = lambda got: (
        (302, {"location": f"http://127.0.0.1:{receiver.port}/elsewhere"})
        if got.path == "/hook"
        else (200, {})
    )
    with receiving(receiver):
        created = await subscribe(client, customs, receiver.url)
        await push(client, customs, minimal_body())
        await wait_for(lambda: len(receiver.received) >= 2)
        assert {r.path for r in receiver.received} == {"/hook"}
        log = await deliveries(client, customs, created["id"])
        assert log[0]["state"] == "pending"
        assert log[0]["last_status"] == 302


@pytest.mark.parametrize(
    "failure",
    [
        lambda: socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        # EAI_SYSTEM (here: out of file descriptors) comes as a plain OSError, not a gaierror.
        lambda: OSError(errno.EMFILE, "Too many open files"),
    ],
    ids=["eai-again", "eai-system"],
)
async def test_a_host_the_resolver_fails_on_for_a_while_is_unresolved_then_retried(
    hooked: tuple[httpx.AsyncClient, Desk, Desk],
    monkeypatch: pytest.MonkeyPatch,
    failure: Callable[[], OSError],
) -> None:
    """The system's resolver failing for a while is a failed attempt, ``unresolved``, retried
    like a refused connection: not ``target-refused`` (the URL is fine), not a failed batch."""
    client, customs, _ = hooked
    receiver = Receiver(free_port())
    resolve = socket.getaddrinfo
    failing = True

    def flaky(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if failing and port == receiver.port:  # the receiver's lookups only, not the database's
            raise failure()
        return resolve(host, port, *args, **kwargs)

    with receiving(receiver):
        created = await subscribe(client, customs, receiver.url)  # checked while it resolves
        monkeypatch.setattr(socket, "getaddrinfo", flaky)
        await push(client, customs, minimal_body())
        for _ in range(200):
            log = await deliveries(client, customs, created["id"])
            if log and log[0]["last_error"] is not None:
                break
            await asyncio.sleep(0.05)
        assert (log[0]["state"], log[0]["last_error"]) == ("pending", "unresolved")
        assert receiver.received == []
        failing = False
        for _ in range(200):
            log = await deliveries(client, customs, created["id"])
            if log[0]["state"] != "pending":
                break
            await asyncio.sleep(0.05)
    assert (log[0]["state"], log[0]["last_error"]) == ("delivered", None)
    assert len(receiver.received) == 1
    assert log[0]["attempts"] >= 2


async def test_no_delivery_to_an_agency_that_may_not_see_the_alert(
    hooked: tuple[httpx.AsyncClient, Desk, Desk],
) -> None:
    client, customs, industry = hooked
    receiver = Receiver(free_port())
    with receiving(receiver):
        created = await subscribe(client, industry, receiver.url)  # industry sees only its own
        await push(client, customs, minimal_body())
        for _ in range(200):
            log = await deliveries(client, industry, created["id"])
            if log and log[0]["state"] != "pending":
                break
            await asyncio.sleep(0.05)
        assert log[0]["state"] == "refused"
        await asyncio.sleep(0.3)
    assert receiver.received == []


async def test_nothing_sealed_in_events_deliveries_or_logs(
    hooked: tuple[httpx.AsyncClient, Desk, Desk],
    settings: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    client, customs, _ = hooked
    receiver = Receiver(free_port())
    with receiving(receiver):
        body = {"name": "x", "filter": {"party": PARTY}, "webhook": {"url": receiver.url}}
        response = await client.post("/v1/subscriptions", json=body, headers=customs.reading())
        assert response.status_code == 201, response.text
        created = response.json()
        await push(client, customs, alert_body(narrative=NARRATIVE))
        await wait_for(lambda: len(receiver.received) >= 1)
        feed = await client.get("/v1/events", headers=customs.headers)
        log = await client.get(
            f"/v1/subscriptions/{created['id']}/deliveries", headers=customs.headers
        )
    secret = created["secret"].encode()
    for plaintext in (NARRATIVE.encode(), PARTY.encode()):
        assert plaintext not in receiver.received[0].body
        assert plaintext not in feed.content
        assert plaintext not in log.content
    logged = capfd.readouterr()
    for text in (NARRATIVE, PARTY, created["secret"]):
        assert text not in logged.out + logged.err
    if settings.is_sqlite:
        path = Path(settings.database.database)
        stored = b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
        for plaintext in (NARRATIVE.encode(), PARTY.encode(), secret):
            assert plaintext not in stored
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(settings.database_url)
        with engine.connect() as connection:
            for table in (
                "events",
                "event_intake",
                "event_matches",
                "subscriptions",
                "subscription_criteria",
                "webhook_deliveries",
                "alerts",
            ):
                statement = text(f"SELECT t::text FROM {table} t")  # noqa: S608 -- fixed names
                rows = connection.execute(statement).scalars()
                dumped = "\n".join(rows)
                for plaintext in (NARRATIVE, PARTY, created["secret"]):
                    assert plaintext not in dumped
        engine.dispose()


async def test_a_day_of_failures_makes_the_list_failing_until_it_is_resumed(
    serving: Serving,
) -> None:
    """After 24 hours of failed attempts the delivery is `expired` and the watch list `failing`:
    nothing more is sent to it, events meanwhile wait; `resume` makes it active and sends them.
    (The day is passed by moving the delivery's creation back in the database.)"""
    async with serving(webhook_allow_hosts="127.0.0.1", webhook_first_retry=0.2) as (
        client,
        registry,
    ):
        customs = await open_desk(registry, client, "customs", "BE")
        down = True
        receiver = Receiver(free_port(), answer=lambda _r: (503 if down else 204, {}))
        with receiving(receiver):
            created = await subscribe(client, customs, receiver.url)
            first = await push(client, customs, minimal_body())
            await wait_for(lambda: len(receiver.received) >= 1)
            with registry.app.state.engine.begin() as connection:
                connection.execute(
                    update(WebhookDelivery)
                    .where(col(WebhookDelivery.subscription_id) == uuid.UUID(created["id"]))
                    .values(created_at=datetime.now(UTC) - timedelta(hours=25))
                )
            path = f"/v1/subscriptions/{created['id']}"

            async def state() -> str:
                response = await client.get(path, headers=customs.headers)
                assert response.status_code == 200, response.text
                return str(response.json()["state"])

            for _ in range(300):  # the next attempt fails once more, past the day
                if await state() == "failing":
                    break
                await asyncio.sleep(0.05)
            assert await state() == "failing"
            [expired] = await deliveries(client, customs, created["id"])
            assert expired["state"] == "expired"

            down = False
            second = await push(client, customs, minimal_body())
            await asyncio.sleep(1.5)  # a failing list is sent nothing
            assert {json.loads(got.body)["alert_id"] for got in receiver.received} == {first}

            resumed = await client.post(f"{path}/resume", headers=customs.headers)
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["state"] == "active"
            await wait_for(
                lambda: second in {json.loads(got.body)["alert_id"] for got in receiver.received}
            )


async def test_an_alert_narrowed_while_its_delivery_waits_is_not_sent(serving: Serving) -> None:
    """Visibility is checked again at delivery: an alert whose distribution leaves the watch
    list's agency out, between the event and the retry, is never sent to it."""
    async with serving(webhook_allow_hosts="127.0.0.1", webhook_first_retry=0.2) as (
        client,
        registry,
    ):
        police = await open_desk(registry, client, "law_enforcement", "NL")
        customs = await open_desk(registry, client, "customs", "BE")
        down = True
        receiver = Receiver(free_port(), answer=lambda _r: (503 if down else 204, {}))
        with receiving(receiver):
            created = await subscribe(client, customs, receiver.url)
            alert = await push(client, police, minimal_body())
            await wait_for(lambda: len(receiver.received) >= 1)
            narrowed = await client.patch(
                f"/v1/alerts/{alert}",
                json={"distribution": {"scope": "agencies", "agencies": [str(police.agency.id)]}},
                headers={
                    **police.headers,
                    "If-Match": '"v1"',
                    "Content-Type": "application/merge-patch+json",
                },
            )
            assert narrowed.status_code == 200, narrowed.text
            sent_before = len(receiver.received)
            down = False
            for _ in range(300):
                log = await deliveries(client, customs, created["id"])
                if log[-1]["state"] != "pending":
                    break
                await asyncio.sleep(0.05)
            states = {item["state"] for item in log}
            assert states == {"refused"}, log
            assert len(receiver.received) == sent_before


async def test_a_disabled_clients_webhooks_stop_with_its_tokens(serving: Serving) -> None:
    """Disabling a client stops its webhooks too: an event after the disable is refused
    (``client-disabled``, audited as denied) and never sent (before, it was sent)."""
    async with serving(webhook_allow_hosts="127.0.0.1", webhook_first_retry=0.2) as (
        client,
        registry,
    ):
        police = await open_desk(registry, client, "law_enforcement", "NL")
        customs = await open_desk(registry, client, "customs", "BE")
        receiver = Receiver(free_port())
        with receiving(receiver):
            created = await subscribe(client, customs, receiver.url)
            await push(client, police, minimal_body())
            await wait_for(lambda: len(receiver.received) == 1)
            factory = registry.app.state.session_factory
            with factory.begin() as session:
                session.execute(
                    update(Client)
                    .where(col(Client.client_id) == customs.agency.client_id)
                    .values(disabled_at=datetime.now(UTC))
                )
            later = await push(client, police, minimal_body())

            def settled() -> list[tuple[str, str | None]]:
                with factory() as session:
                    rows = session.execute(
                        select(WebhookDelivery.state, WebhookDelivery.last_error).where(
                            col(WebhookDelivery.subscription_id) == uuid.UUID(created["id"])
                        )
                    ).all()
                return [(state, error) for state, error in rows]

            await wait_for(lambda: len(settled()) == 2 and "pending" not in dict(settled()))
            assert sorted(settled()) == [("delivered", None), ("refused", "client-disabled")]
            await asyncio.sleep(0.3)
        assert len(receiver.received) == 1
        entries = stored_entries(registry.app)
        about_later = [
            entry["outcome"]
            for entry in entries
            if entry["action"] == "event.deliver" and later in entry["resource_ids"]
        ]
        assert about_later == ["denied"]


async def test_a_list_whose_secret_does_not_unseal_holds_up_no_other(
    serving: Serving, capfd: pytest.CaptureFixture[str]
) -> None:
    """A watch list whose sealed secret is damaged in the database fails at every delivery:
    that is logged (error level, the error's type and ids only), its deliveries stay leased, and
    the other list's deliveries, claimed in the same batches, go out. Once the secret is mended
    and the lease is over (moved back in the database), what waited is sent."""
    async with serving(webhook_allow_hosts="127.0.0.1", webhook_first_retry=0.2) as (
        client,
        registry,
    ):
        customs = await open_desk(registry, client, "customs", "BE")
        engine = registry.app.state.engine
        receiver = Receiver(free_port())
        with receiving(receiver):
            broken = await subscribe(client, customs, receiver.url + "?list=broken")
            sound = await subscribe(client, customs, receiver.url + "?list=sound")
            broken_id = uuid.UUID(broken["id"])
            with engine.begin() as connection:
                sealed = connection.execute(
                    select(Subscription.sealed_secret).where(col(Subscription.id) == broken_id)
                ).scalar_one()
                assert sealed is not None
                damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
                connection.execute(
                    update(Subscription)
                    .where(col(Subscription.id) == broken_id)
                    .values(sealed_secret=damaged)
                )

            def paths() -> list[str]:
                return [got.path for got in receiver.received]

            alerts = [await push(client, customs, minimal_body())]
            await wait_for(lambda: paths().count("/hook?list=sound") == 1)
            alerts.append(await push(client, customs, minimal_body()))  # the sender still runs
            await wait_for(lambda: paths().count("/hook?list=sound") == 2)
            assert "/hook?list=broken" not in paths()
            waiting = await deliveries(client, customs, broken["id"])
            # Claimed (each claim counts an attempt), leased, never sent: no outcome recorded.
            assert [(item["state"], item["last_error"]) for item in waiting] == [
                ("pending", None)
            ] * 2
            assert all(item["attempts"] >= 1 for item in waiting)
            logged = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
            failures = [line for line in logged if line["level"] == "error"]
            assert failures
            assert {line["event"]["error"] for line in failures} == {"IntegrityError"}
            assert {
                line["event"]["subscription"]
                for line in failures
                if "subscription" in line["event"]
            } == {broken["id"]}
            assert all("exception" not in line for line in failures)

            with engine.begin() as connection:  # mended, and the lease is over
                connection.execute(
                    update(Subscription)
                    .where(col(Subscription.id) == broken_id)
                    .values(sealed_secret=sealed)
                )
                connection.execute(
                    update(WebhookDelivery)
                    .where(col(WebhookDelivery.subscription_id) == broken_id)
                    .values(next_attempt_at=datetime.now(UTC))
                )
            await wait_for(lambda: paths().count("/hook?list=broken") == 2)
    for name, created in (("broken", broken), ("sound", sound)):
        sent = [got for got in receiver.received if got.path == f"/hook?list={name}"]
        assert sorted(json.loads(got.body)["alert_id"] for got in sent) == sorted(alerts)
        for got in sent:
            assert verify_standard_webhook(created["secret"], got.headers, got.body)
