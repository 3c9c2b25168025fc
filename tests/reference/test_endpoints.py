from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from exchange_api.errors import install_error_handlers
from exchange_api.reference.endpoints import router

PROBLEM = "application/problem+json"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


async def test_search_by_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/substances", params={"q": "pmk"})
    assert response.status_code == 200
    body = response.json()
    assert "4676-39-5" in {item["cas"] for item in body["items"]}
    assert body["next_cursor"] is None


async def test_paging_reaches_the_end(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/substances", params={"limit": 200})).json()
    assert everything["next_cursor"] is None

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 7}
    while True:
        body = (await client.get("/substances", params=params)).json()
        assert len(body["items"]) <= 7
        seen.extend(item["key"] for item in body["items"])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [item["key"] for item in everything["items"]]


async def test_a_page_that_exactly_fills_the_limit_is_the_last(client: httpx.AsyncClient) -> None:
    body = (await client.get("/substances", params={"q": "norfentanyl", "limit": 1})).json()
    assert [item["cas"] for item in body["items"]] == ["1609-66-1"]
    assert body["next_cursor"] is None


async def test_get_one_substance(client: httpx.AsyncClient) -> None:
    response = await client.get("/substances/1609-66-1")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Norfentanyl"
    assert body["scheduled"] is True
    assert body["un_table"] == "I"


async def test_unlisted_substance_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/substances/50-00-0")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:exchange-api:problem:not-found"


@pytest.mark.parametrize("cas", ["1609-66-5", "not-a-cas"])
async def test_malformed_cas_is_a_problem_that_does_not_echo_it(
    client: httpx.AsyncClient, cas: str
) -> None:
    response = await client.get(f"/substances/{cas}")
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:exchange-api:problem:invalid-parameter"
    body = response.json()
    assert body["errors"][0]["loc"] == ["path", "cas"]
    assert "not a valid CAS Registry Number" in body["errors"][0]["msg"]
    assert cas not in response.text


async def test_unknown_query_parameter_is_400_naming_it_without_its_value(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/substances", params={"q": "acid", "destinaton": "NL-secret"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:exchange-api:problem:unknown-query-parameter"
    assert body["unknown_parameters"] == ["destinaton"]
    assert "NL-secret" not in response.text


async def test_get_one_substance_takes_no_query_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/substances/67-64-1", params={"fields": "all"})
    assert response.status_code == 400
    assert response.json()["unknown_parameters"] == ["fields"]


@pytest.mark.parametrize("limit", [0, 201])
async def test_limit_out_of_range_is_refused(client: httpx.AsyncClient, limit: int) -> None:
    response = await client.get("/substances", params={"limit": limit})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_unknown_cursor_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/substances", params={"cursor": "50-00-0"})
    assert response.status_code == 400
    assert response.json()["type"] == "urn:exchange-api:problem:invalid-cursor"


async def test_another_number_of_an_entry_answers_the_entry(client: httpx.AsyncClient) -> None:
    response = await client.get("/substances/41232-97-7")
    assert response.status_code == 200
    assert (response.json()["cas"], response.json()["key"]) == ("77-83-8", "77-83-8")


async def test_an_entry_without_a_number_is_listed_and_found_by_name(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/substances", params={"q": "propanedioate"})).json()
    assert [(item["cas"], item["key"], item["name"]) for item in body["items"]] == [
        (None, "name:depapd", "DEPAPD")
    ]
