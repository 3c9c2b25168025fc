"""The event feed over HTTP: cursor order, visibility decided at read time, long-poll, audit."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col

from exchange_api.events.hub import FeedHub
from exchange_api.models.agencies import Client
from exchange_api.models.events import EventRecord
from tests.alerts.builders import minimal_body
from tests.alerts.http import Desk, assert_problem, open_desk, push
from tests.auth_helpers import Registry, Serving


@pytest.fixture
async def customs(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client, "customs", "BE")


@pytest.fixture
async def police(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client, "law_enforcement", "NL")


async def feed(client: httpx.AsyncClient, desk: Desk, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/events", params=params, headers=desk.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def follow(
    client: httpx.AsyncClient, desk: Desk, after: str | None = None
) -> list[dict[str, Any]]:
    """Every event the desk may read after ``after``, page by page (limit 2)."""
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    if after is not None:
        params["after"] = after
    while True:
        page = await feed(client, desk, **params)
        assert page["next_cursor"]
        seen.extend(page["items"])
        if not page["items"]:
            return seen
        params["after"] = page["next_cursor"]


async def settle(client: httpx.AsyncClient, desk: Desk, count: int) -> list[dict[str, Any]]:
    """The feed once ``count`` events are readable (the sequencer runs moments after commit)."""
    for _ in range(100):
        events = await follow(client, desk)
        if len(events) >= count:
            return events
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} events")


async def test_created_and_updated_alerts_are_events_in_order(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    first = await push(client, customs, minimal_body())
    second = await push(client, customs, minimal_body(incident_type="theft"))
    patched = await client.patch(
        f"/v1/alerts/{first}",
        json={"status": "closed_confirmed"},
        headers={
            **customs.headers,
            "If-Match": '"v1"',
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert patched.status_code == 200, patched.text
    events = await settle(client, customs, 3)
    assert [(e["type"], e["alert_id"]) for e in events] == [
        ("alert.created", first),
        ("alert.created", second),
        ("alert.updated", first),
    ]
    assert events[0]["alert"]["status"] == "closed_confirmed"  # the routing facts as they are now
    assert events[1]["alert"]["incident_type"] == "theft"
    ids = [e["id"] for e in events]
    assert len(set(ids)) == 3
    # Resuming from any event gives exactly the ones after it.
    assert [e["id"] for e in await follow(client, customs, ids[0])] == ids[1:]
    assert await follow(client, customs, ids[2]) == []
    assert {key for key in events[0]} == {
        "id",
        "type",
        "at",
        "alert_id",
        "followup_id",
        "request_id",
        "subscriptions",
        "alert",
        "substance",
    }


async def test_empty_page_still_has_a_cursor(client: httpx.AsyncClient, customs: Desk) -> None:
    page = await feed(client, customs)
    assert page == {"items": [], "next_cursor": page["next_cursor"]}
    assert isinstance(page["next_cursor"], str)
    again = await feed(client, customs, after=page["next_cursor"])
    assert again["items"] == []


async def test_narrowed_distribution_hides_earlier_events(
    client: httpx.AsyncClient, customs: Desk, police: Desk
) -> None:
    alert = await push(client, customs, minimal_body())
    events = await settle(client, police, 1)
    assert [e["alert_id"] for e in events] == [alert]
    narrowed = await client.patch(
        f"/v1/alerts/{alert}",
        json={"distribution": {"scope": "kinds", "kinds": ["customs"]}},
        headers={
            **customs.headers,
            "If-Match": '"v1"',
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert narrowed.status_code == 200, narrowed.text
    await settle(client, customs, 2)
    # Neither the creation (readable when produced) nor the change reaches the police now.
    assert await follow(client, police) == []


async def test_type_filter_and_bad_cursors(client: httpx.AsyncClient, customs: Desk) -> None:
    await push(client, customs, minimal_body())
    await settle(client, customs, 1)
    assert (await feed(client, customs, type="alert.updated"))["items"] == []
    response = await client.get("/v1/events", params={"after": "nonsense"}, headers=customs.headers)
    assert_problem(response, 400, "invalid-cursor")
    response = await client.get("/v1/events", params={"wait": 31}, headers=customs.headers)
    assert response.status_code == 400
    response = await client.get("/v1/events", params={"colour": "red"}, headers=customs.headers)
    assert_problem(response, 400, "unknown-query-parameter")


async def test_long_poll_answers_when_an_event_arrives(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    cursor = (await feed(client, customs))["next_cursor"]

    async def later() -> str:
        await asyncio.sleep(0.3)
        return await push(client, customs, minimal_body())

    started = time.monotonic()
    waiting = asyncio.create_task(feed(client, customs, after=cursor, wait=10))
    alert = await later()
    page = await waiting
    assert [e["alert_id"] for e in page["items"]] == [alert]
    assert time.monotonic() - started < 5


async def waiting_poll(
    app: FastAPI, client: httpx.AsyncClient, desk: Desk, *, wait: float
) -> asyncio.Task[httpx.Response]:
    """A long poll of ``desk``'s feed from its end, once it has read once and waits."""
    cursor = (await feed(client, desk))["next_cursor"]
    hub: FeedHub = app.state.event_hub
    waiting = asyncio.create_task(
        client.get("/v1/events", params={"after": cursor, "wait": wait}, headers=desk.headers)
    )
    for _ in range(500):
        if hub.waiting:
            break
        await asyncio.sleep(0.01)
    assert hub.waiting == 1
    return waiting


async def test_a_long_poll_answers_401_once_its_client_is_disabled_while_it_waits(
    app: FastAPI, client: httpx.AsyncClient, customs: Desk, police: Desk
) -> None:
    """The token is checked again before each read after the first: an event that arrives
    after the client was disabled is not handed to it (before, the wait answered with it)."""
    waiting = await waiting_poll(app, client, customs, wait=10)
    with app.state.session_factory.begin() as session:
        session.execute(
            update(Client)
            .where(col(Client.client_id) == customs.agency.client_id)
            .values(disabled_at=datetime.now(UTC))
        )
    await push(client, police, minimal_body())  # network-wide: customs could have seen it
    response = await asyncio.wait_for(waiting, 15)
    assert_problem(response, 401, "invalid-token")
    assert "disabled" in response.json()["detail"]


async def test_a_long_poll_answers_401_once_its_token_expires_while_it_waits(
    app: FastAPI, client: httpx.AsyncClient, customs: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The expiry is checked again too: a poll that outlives its token answers 401 (before, it
    answered its empty page with a token no longer good)."""
    waiting = await waiting_poll(app, client, customs, wait=1)
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    response = await asyncio.wait_for(waiting, 15)
    assert_problem(response, 401, "invalid-token")
    assert "expired" in response.json()["detail"]


async def test_long_poll_times_out_empty(client: httpx.AsyncClient, customs: Desk) -> None:
    started = time.monotonic()
    page = await feed(client, customs, wait=0.5)
    assert page["items"] == []
    assert 0.4 < time.monotonic() - started < 5


async def test_no_token_and_wrong_scope(client: httpx.AsyncClient, registry: Registry) -> None:
    assert_problem(await client.get("/v1/events"), 401, "missing-token")
    writer = await open_desk(registry, client, scopes="alerts:write")
    assert_problem(
        await client.get("/v1/events", headers=writer.headers), 403, "insufficient-scope"
    )


async def test_events_older_than_30_days_are_forgotten_and_older_cursors_are_410(
    client: httpx.AsyncClient, customs: Desk, registry: Registry, serving: Serving
) -> None:
    for _ in range(3):
        await push(client, customs, minimal_body())
    first, second, third = await settle(client, customs, 3)
    with registry.app.state.engine.begin() as connection:
        connection.execute(
            update(EventRecord)
            .where(
                col(EventRecord.alert_id).in_([uuid.UUID(e["alert_id"]) for e in (first, second)])
            )
            .values(at=datetime.now(UTC) - timedelta(days=31))
        )

    async with serving() as (restarted, _):  # a worker's sequencer purges on its first pass
        for _ in range(100):
            expired = await restarted.get(
                "/v1/events", params={"after": first["id"]}, headers=customs.headers
            )
            if expired.status_code == 410:
                break
            await asyncio.sleep(0.05)
        assert_problem(expired, 410, "cursor-expired")
        kept = await feed(restarted, customs)
        assert [event["id"] for event in kept["items"]] == [third["id"]]
        resumed = await feed(restarted, customs, after=second["id"])
        assert [event["id"] for event in resumed["items"]] == [third["id"]]
