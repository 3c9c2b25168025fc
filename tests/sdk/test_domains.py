"""The SDK's namespaces for follow-ups, requests, the directory, events and watch lists, each
against a real server: what it sends is what the contract asks, what it returns is typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange_client import AsyncClient, Client, RetryPolicy
from exchange_client.errors import AlreadyReplied, NotAddressee, NotFound
from exchange_client.rows import EXAMPLE
from tests.sdk.conftest import ServerFactory

FOLLOW_UP: dict[str, Any] = {
    "kind": "seizure",
    "occurred_on": "2026-11-24",
    "summary": "1,150 kg found behind the cleaner drums.",
    "seized": [{"cas": "103-79-7", "quantity": 1150, "unit": "kg"}],
    "handling": {
        "code": "H1",
        "source_reliability": "A",
        "information_reliability": "1",
        "tlp": "amber",
    },
}


def test_follow_ups(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    customs, police = live.register("customs"), live.register("law_enforcement")
    with Client(live.url, customs.client_id, customs.key_path) as reporter:
        alert_id = reporter.alerts.create(EXAMPLE)["id"]
    with Client(live.url, police.client_id, police.key_path) as follower:
        receipt = follower.followups.create(alert_id, FOLLOW_UP)
        [listed] = follower.followups.list(alert_id, purpose="case NL-7")
        read = follower.followups.get(alert_id, receipt["id"], purpose="case NL-7")
    assert listed["id"] == read["id"] == receipt["id"]
    assert read["summary"] == FOLLOW_UP["summary"]
    assert read["agency"] == police.agency_id


async def test_requests_between_two_agencies(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    customs, police = live.register("customs"), live.register("law_enforcement")
    due = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    sender = AsyncClient(live.url, customs.client_id, customs.key_path)
    addressee = AsyncClient(live.url, police.client_id, police.key_path)
    async with sender, addressee:
        alert_id = (await sender.alerts.create(EXAMPLE))["id"]
        body = {
            "to": police.agency_id,
            "kind": "backtracking",
            "due_by": due,
            "message": "Who paid?",
        }
        sent = await sender.requests.create(alert_id, body)
        inbox = [r["id"] async for r in addressee.requests.box("inbox", state="open")]
        assert inbox == [sent["id"]]
        read = await addressee.requests.get(sent["id"], purpose="case NL-8")
        assert read["message"] == "Who paid?"
        assert read["from"] == customs.agency_id
        with pytest.raises(NotAddressee):
            await sender.requests.reply(sent["id"], "answered", "not mine to answer")
        replied = await addressee.requests.reply(sent["id"], "answered", "A broker in Venlo.")
        assert replied["state"] == "answered"
        with pytest.raises(AlreadyReplied):
            await addressee.requests.reply(sent["id"], "declined", "again")
        outbox = [r["state"] async for r in sender.requests.box("outbox")]
        assert outbox == ["answered"]


def test_directory(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    customs, police = live.register("customs"), live.register("law_enforcement")
    with Client(live.url, customs.client_id, customs.key_path) as exchange:
        found = list(exchange.directory.agencies("sdk test", kind="law_enforcement", limit=1))
        assert [a["id"] for a in found] == [police.agency_id]
        assert exchange.directory.agency(customs.agency_id)["kind"] == "customs"
        with pytest.raises(NotFound):
            exchange.directory.agency("0193a0a0-0000-7000-8000-000000000000")


def test_event_stream_resumes_after_the_connection_dropped(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    customs = live.register("customs")
    patient = RetryPolicy(attempts=40, backoff=0.25, max_backoff=0.5)
    with Client(live.url, customs.client_id, customs.key_path, retry=patient) as exchange:
        first = exchange.alerts.create(EXAMPLE)["id"]
        page = exchange.events.page(types=["alert.created"], wait=5)
        assert [e["alert_id"] for e in page["items"]] == [first]
        stream = exchange.events.stream(types=["alert.created"])
        assert next(stream)["alert_id"] == first
        live.process.kill()  # the connection drops mid-stream
        live.process.wait()
        exchange_server(port=live.port)
        second = exchange.alerts.create(EXAMPLE)["id"]
        resumed = next(stream)  # reopened with Last-Event-ID: the first is not seen again
        assert resumed["alert_id"] == second
        assert resumed["alert"]["id"] == second  # type: ignore[index]
        stream.close()


def test_watch_lists(exchange_server: ServerFactory) -> None:
    live = exchange_server()
    customs = live.register("customs")
    with Client(live.url, customs.client_id, customs.key_path) as exchange:
        watch = exchange.subscriptions.create({"name": "BMK", "filter": {"substance_name": "BMK"}})
        assert watch["secret"] is None  # no webhook
        assert [s["id"] for s in exchange.subscriptions.list()] == [watch["id"]]
        alert_id = exchange.alerts.create(EXAMPLE)["id"]
        matched = exchange.events.page(subscription=watch["id"], wait=5)["items"]
        assert [(e["alert_id"], e["subscriptions"]) for e in matched] == [(alert_id, [watch["id"]])]
        assert list(exchange.subscriptions.deliveries(watch["id"])) == []
        assert exchange.subscriptions.resume(watch["id"])["state"] == "active"
        exchange.subscriptions.delete(watch["id"])
        with pytest.raises(NotFound):
            exchange.subscriptions.get(watch["id"])
