"""Watch lists over HTTP: ownership, blind filters, matching in the feed, webhook URL checks."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.http import Desk, assert_problem, open_desk, push
from tests.auth_helpers import Registry
from tests.events.test_feed import settle


@pytest.fixture
async def customs(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client, "customs", "BE")


async def subscribe(
    client: httpx.AsyncClient,
    desk: Desk,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post("/v1/subscriptions", json=body, headers=headers or desk.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/subscriptions/{created['id']}"
    return created


async def test_matching_lists_name_events_and_filter_the_feed(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    acetic = await subscribe(
        client, customs, {"name": "PMK", "filter": {"substance": ["4433-77-6"]}}
    )
    route = await subscribe(
        client, customs, {"name": "CN→NL", "filter": {"origin": "CN", "destination": "NL"}}
    )
    everything = await subscribe(client, customs, {"name": "all"})
    both = await subscribe(
        client,
        customs,
        {"name": "both", "filter": {"substance": ["4433-77-6", "103-79-7"], "origin": "CN"}},
    )
    plain = await push(client, customs, minimal_body())  # 4433-77-6, no route
    example = await push(client, customs, alert_body())  # 103-79-7, CN → BG → NL
    events = await settle(client, customs, 2)
    by_alert = {event["alert_id"]: set(event["subscriptions"]) for event in events}
    assert by_alert[plain] == {acetic["id"], everything["id"]}
    assert by_alert[example] == {route["id"], everything["id"], both["id"]}
    response = await client.get(
        "/v1/events", params={"subscription": route["id"]}, headers=customs.headers
    )
    assert [e["alert_id"] for e in response.json()["items"]] == [example]
    assert acetic["secret"] is None
    assert acetic["webhook"] is None
    assert acetic["filter"] == {"substance": ["4433-77-6"]}


async def test_blind_filters_need_a_purpose_and_are_never_shown(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    body = {"name": "exporter", "filter": {"party": "Shanghai Example Chemical Co"}}
    response = await client.post("/v1/subscriptions", json=body, headers=customs.headers)
    assert_problem(response, 400, "purpose-required")
    created = await subscribe(client, customs, body, headers=customs.reading())
    assert created["filter"] == {"party": "<set>"}
    listed = await client.get("/v1/subscriptions", headers=customs.headers)
    assert "Shanghai" not in listed.text
    assert listed.json()["items"][0]["filter"] == {"party": "<set>"}


async def test_a_list_belongs_to_its_client(
    client: httpx.AsyncClient, customs: Desk, registry: Registry
) -> None:
    mine = await subscribe(client, customs, {"name": "mine"})
    other = await open_desk(registry, client, "customs", "BE")
    for method, path in (
        ("GET", f"/v1/subscriptions/{mine['id']}"),
        ("DELETE", f"/v1/subscriptions/{mine['id']}"),
        ("GET", f"/v1/subscriptions/{mine['id']}/deliveries"),
        ("POST", f"/v1/subscriptions/{mine['id']}/resume"),
    ):
        assert_problem(await client.request(method, path, headers=other.headers), 404, "not-found")
    response = await client.get(
        "/v1/events", params={"subscription": mine["id"]}, headers=other.headers
    )
    assert_problem(response, 404, "not-found")
    assert (await client.get("/v1/subscriptions", headers=other.headers)).json()["items"] == []
    deleted = await client.delete(f"/v1/subscriptions/{mine['id']}", headers=customs.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/v1/subscriptions/{mine['id']}", headers=customs.headers)
    assert_problem(gone, 404, "not-found")
    writer = await open_desk(registry, client, scopes="alerts:write")
    assert_problem(
        await client.get("/v1/subscriptions", headers=writer.headers), 403, "insufficient-scope"
    )
    assert_problem(await client.get("/v1/subscriptions"), 401, "missing-token")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://203.0.113.10/hook",
        "ftp://example.org/hook",
    ],
)
async def test_webhook_targets_refused_at_creation(
    client: httpx.AsyncClient, customs: Desk, url: str
) -> None:
    body = {"name": "hook", "webhook": {"url": url}}
    response = await client.post("/v1/subscriptions", json=body, headers=customs.headers)
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body", "webhook", "url"]


async def test_a_substance_nobody_has_listed_yet_can_be_watched_by_name(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    """Early warning: a watch list on a new substance's name matches alerts that report it by
    that name, however it is spelt in case and spacing."""
    body = {"name": "new", "filter": {"substance_name": "Designer  Precursor-X"}}
    response = await client.post("/v1/subscriptions", json=body, headers=customs.headers)
    assert response.status_code == 201, response.text
    watch = response.json()["id"]
    reported = minimal_body(substances=[{"name": "designer precursor x"}])
    other = minimal_body(substances=[{"name": "something else"}])
    wanted = await push(client, customs, reported)
    await push(client, customs, other)
    for _ in range(100):
        page = await client.get(
            "/v1/events", params={"subscription": watch}, headers=customs.headers
        )
        items = page.json()["items"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert [item["alert_id"] for item in items] == [wanted]
