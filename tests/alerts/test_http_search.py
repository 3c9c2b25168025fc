"""Search over HTTP: filters as query parameters, unknown ones refused, Link headers to follow."""

from __future__ import annotations

import httpx
import pytest

from tests.alerts.builders import EXPORTER_NAME, alert_body, minimal_body
from tests.alerts.http import PURPOSE, Desk, assert_problem, open_desk, push
from tests.auth_helpers import Registry


@pytest.fixture
async def customs(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client, "customs", "BE")


async def test_following_link_headers_visits_every_alert_once(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    created = {await push(client, customs, minimal_body()) for _ in range(5)}
    await push(client, customs, minimal_body(substances=[{"cas": "108-24-7"}]))
    url: str | None = "/v1/alerts?substance=4433-77-6&substance=103-79-7&limit=2"
    seen: list[str] = []
    while url is not None:
        response = await client.get(url, headers=customs.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(item["id"] for item in page["items"])
        link = response.headers.get("link")
        if page["next_cursor"] is None:
            assert link is None
            url = None
        else:
            assert link is not None
            assert link.endswith('>; rel="next"')
            url = link[1 : link.index(">")]
            assert url.startswith("/v1/alerts?")
            assert url.count("substance=") == 2  # the filters travel with the cursor
            assert f"cursor={page['next_cursor']}" in url
    assert len(seen) == len(set(seen))
    assert set(seen) == created


async def test_filters_as_query_parameters(client: httpx.AsyncClient, customs: Desk) -> None:
    example = await push(client, customs, alert_body())
    await push(client, customs, minimal_body())

    async def ids(
        params: dict[str, str | list[str]], headers: dict[str, str] | None = None
    ) -> list[str]:
        response = await client.get("/v1/alerts", params=params, headers=headers or customs.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids({"origin": "CN", "transit": "BG", "destination": "NL"}) == [example]
    assert await ids(
        {"substance": ["103-79-7"], "status": ["open"], "incident_type": ["stopped_shipment"]}
    ) == [example]
    assert await ids(
        {"detected_after": "2026-11-20", "reporting_agency": str(customs.agency.id)}
    ) == [example]
    reading = customs.reading()
    assert await ids({"party": EXPORTER_NAME.lower()}, reading) == [example]
    assert await ids({"document": "csqu-305438-3"}, reading) == [example]


async def test_search_items_are_routing_facts_only(
    client: httpx.AsyncClient, customs: Desk
) -> None:
    await push(client, customs, alert_body())
    item = (await client.get("/v1/alerts", headers=customs.headers)).json()["items"][0]
    assert {"parties", "documents", "persons", "narrative", "reference", "contact"}.isdisjoint(item)
    assert item["route"]["origin"] == "CN"
    assert item["substances"][0]["scheduled"] is True


@pytest.mark.parametrize("params", [{"party": "Example"}, {"document": "CSQU3054383"}])
async def test_party_and_document_filters_need_a_purpose(
    client: httpx.AsyncClient, customs: Desk, params: dict[str, str]
) -> None:
    response = await client.get("/v1/alerts", params=params, headers=customs.headers)
    assert_problem(response, 400, "purpose-required")
    with_purpose = await client.get(
        "/v1/alerts", params=params, headers={**customs.headers, **PURPOSE}
    )
    assert with_purpose.status_code == 200


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"destinaton": "NL"}, "unknown-query-parameter"),
        ({"substance": "103-79-8"}, "invalid-parameter"),
        ({"origin": "XQ"}, "invalid-parameter"),
        ({"status": "archived"}, "invalid-parameter"),
        ({"limit": "201"}, "invalid-parameter"),
        ({"limit": "0"}, "invalid-parameter"),
        ({"detected_after": "yesterday"}, "invalid-parameter"),
        ({"reporting_agency": "nobody"}, "invalid-parameter"),
        ({"cursor": "not-a-cursor"}, "invalid-cursor"),
    ],
)
async def test_bad_search_parameters_are_400(
    client: httpx.AsyncClient, customs: Desk, params: dict[str, str], slug: str
) -> None:
    response = await client.get("/v1/alerts", params=params, headers=customs.headers)
    assert_problem(response, 400, slug)


@pytest.mark.parametrize(
    "path", ["/v1/alerts/{id}", "/v1/alerts/{id}/history", "/v1/alerts/{id}/links"]
)
async def test_reads_take_no_query_parameters(
    client: httpx.AsyncClient, customs: Desk, path: str
) -> None:
    alert_id = await push(client, customs, minimal_body())
    response = await client.get(
        path.format(id=alert_id), params={"fields": "all"}, headers=customs.reading()
    )
    assert_problem(response, 400, "unknown-query-parameter")
