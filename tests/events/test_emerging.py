"""``substance.emerging``: an uncatalogued substance crossing the early-warning thresholds is
announced once, to every agency but industry, by the feed and by webhooks; never a sealed value."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.http import Desk, open_desk, push
from tests.auth_helpers import Registry, Serving
from tests.events.receiver import Receiver, free_port, receiving, verify_standard_webhook
from tests.events.test_feed import follow
from tests.events.test_webhooks import deliveries, wait_for

RECENT = (date.today() - timedelta(days=10)).isoformat()
NARRATIVE = "Seized drums were relabelled in a garage near the border"
NOVEL = [{"name": "Novel  Precursor-X", "quantity": 40, "unit": "kg"}]
NOVEL_KEY = "name:novel precursor x"


def _body(substances: list[dict[str, Any]]) -> dict[str, Any]:
    return alert_body(substances=substances, detected_on=RECENT, narrative=NARRATIVE)


async def _reporters(registry: Registry, client: httpx.AsyncClient) -> list[Desk]:
    """Three agencies in two countries."""
    return [
        await open_desk(registry, client, "customs", "NL"),
        await open_desk(registry, client, "law_enforcement", "NL"),
        await open_desk(registry, client, "customs", "BE"),
    ]


async def _emerging(client: httpx.AsyncClient, desk: Desk) -> list[dict[str, Any]]:
    """The ``substance.emerging`` events ``desk`` may read, once the alerts' events are in."""
    for _ in range(100):
        events = await follow(client, desk)
        if any(event["type"] == "alert.created" for event in events):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # the sequencer took the alerts' transaction whole
    return [event for event in await follow(client, desk) if event["type"] == "substance.emerging"]


async def test_a_name_only_substance_is_announced_once_to_all_but_industry(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    reporters = await _reporters(registry, client)
    regulatory = await open_desk(registry, client, "regulatory", "FR")
    industry = await open_desk(registry, client, "industry", "DE")
    watching = await client.post(
        "/v1/subscriptions",
        json={"name": "novel", "filter": {"substance_name": "novel precursor x"}},
        headers=regulatory.headers,
    )
    assert watching.status_code == 201, watching.text
    for reporter in reporters[:2]:
        await push(client, reporter, _body(NOVEL))
    assert await _emerging(client, regulatory) == []  # two alerts: not yet
    await push(client, reporters[2], _body(NOVEL))
    [event] = await _emerging(client, regulatory)
    assert event["alert_id"] is None
    assert event["alert"] is None
    assert event["substance"] == {"key": NOVEL_KEY, "cas": None, "name": "novel precursor x"}
    assert event["subscriptions"] == [watching.json()["id"]]
    assert NARRATIVE not in json.dumps(event)
    [seen_by_customs] = await _emerging(client, reporters[0])
    assert seen_by_customs["id"] == event["id"]
    assert seen_by_customs["subscriptions"] == []  # the watch list is regulatory's
    assert await _emerging(client, industry) == []
    # The statistics agree, and a fourth report announces nothing more.
    answer = await client.get("/v1/statistics/emerging", headers=regulatory.headers)
    assert [item["name"] for item in answer.json()["items"]] == ["novel precursor x"]
    await push(client, await open_desk(registry, client, "customs", "FR"), _body(NOVEL))
    assert [e["id"] for e in await _emerging(client, regulatory)] == [event["id"]]
    typed = await client.get(
        "/v1/events", params={"type": "substance.emerging"}, headers=regulatory.headers
    )
    assert [e["id"] for e in typed.json()["items"]] == [event["id"]]


async def test_a_catalogued_substance_is_never_announced(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    reporters = await _reporters(registry, client)
    for substances in ([{"cas": "4433-77-6"}], [{"name": "DEPAPD"}]):
        for reporter in reporters:
            await push(client, reporter, _body(substances))
    assert await _emerging(client, reporters[0]) == []


async def test_a_batch_and_a_change_of_substances_can_cross_too(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    first, second, third = await _reporters(registry, client)
    batch = await client.post(
        "/v1/alerts/batch",
        json={"alerts": [_body([{"cas": "50-00-0"}])] * 2},
        headers=first.headers,
    )
    assert batch.status_code == 200, batch.text
    await push(client, second, _body([{"cas": "50-00-0"}]))
    [unlisted] = await _emerging(client, first)  # 3 alerts, 2 agencies: across, in a batch
    assert unlisted["substance"] == {"key": "50-00-0", "cas": "50-00-0", "name": None}
    await push(client, first, _body(NOVEL))
    await push(client, second, _body(NOVEL))
    changed = await push(client, third, minimal_body(detected_on=RECENT))
    patched = await client.patch(
        f"/v1/alerts/{changed}",
        json={"substances": NOVEL},
        headers={
            **third.headers,
            "If-Match": '"v1"',
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert patched.status_code == 200, patched.text
    for _ in range(100):
        found = await _emerging(client, first)
        if len(found) == 2:
            break
    assert [event["substance"]["key"] for event in found] == ["50-00-0", NOVEL_KEY]


@pytest.fixture
async def hooked(serving: Serving) -> Any:
    async with serving(webhook_allow_hosts="127.0.0.1", webhook_first_retry=0.2) as running:
        yield running


async def test_a_watch_list_on_the_substance_gets_it_by_webhook_unless_industry(
    hooked: tuple[httpx.AsyncClient, Registry],
) -> None:
    client, registry = hooked
    regulatory = await open_desk(registry, client, "regulatory", "FR")
    industry = await open_desk(registry, client, "industry", "DE")
    receiver = Receiver(free_port())
    created = {}
    for desk in (regulatory, industry):
        response = await client.post(
            "/v1/subscriptions",
            json={
                "name": "novel",
                "filter": {"substance_name": "Novel Precursor X"},
                "webhook": {"url": receiver.url},
            },
            headers=desk.headers,
        )
        assert response.status_code == 201, response.text
        created[desk.agency.kind.value] = response.json()
    with receiving(receiver):
        for reporter in await _reporters(registry, client):
            await push(client, reporter, _body(NOVEL))
        # The list also matches the three alerts' own events (those its agency may see).
        await wait_for(
            lambda: any(b'"substance.emerging"' in got.body for got in receiver.received)
        )
        await asyncio.sleep(0.5)
    [got] = [got for got in receiver.received if b'"substance.emerging"' in got.body]
    assert verify_standard_webhook(created["regulatory"]["secret"], got.headers, got.body)
    assert all(NARRATIVE.encode() not in got.body for got in receiver.received)
    event = json.loads(got.body)
    assert (event["type"], event["alert_id"], event["alert"]) == ("substance.emerging", None, None)
    assert event["substance"]["key"] == NOVEL_KEY
    assert event["subscriptions"] == [created["regulatory"]["id"]]
    refused = await deliveries(client, industry, created["industry"]["id"])
    assert {(item["state"], item["last_error"]) for item in refused} == {
        ("refused", "not-visible")
    }  # the others' alerts and the announcement alike
    assert len(refused) == 4


async def test_two_reports_crossing_at_once_announce_the_substance_once(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    """Two transactions that each bring the count to the thresholds at the same time: neither
    may count without the other (nobody would announce), and only one may announce."""
    reporters = await _reporters(registry, client)
    names = [f"Concurrent precursor {n}" for n in range(8)]
    for name in names:
        await push(client, reporters[0], _body([{"name": name}]))
    for name in names:
        await asyncio.gather(
            *(push(client, reporter, _body([{"name": name}])) for reporter in reporters[1:])
        )
    for _ in range(100):
        announced = [event["substance"]["name"] for event in await _emerging(client, reporters[0])]
        if len(announced) >= len(names):
            break
    assert sorted(announced) == sorted(name.lower() for name in names)
