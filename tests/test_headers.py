"""What every answer carries, and what none does: no-store and nosniff, no redirect built from the
Host header, no server banner; the API docs page served from the package's own assets."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.alerts.http import open_desk
from tests.auth_helpers import TOKEN_PATH, Registry
from tests.test_cli import served  # noqa: F401 (fixture)


async def test_v1_and_oauth_answers_are_not_stored_and_not_sniffed(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    desk = await open_desk(registry, client)
    answers = [
        await client.get("/v1/substances", headers=desk.headers),  # 200
        await client.get("/v1/substances"),  # 401
        await client.get("/v1/alerts/not-an-id", headers=desk.headers),  # 400
        await client.get("/v1/audit/events", headers=desk.headers),  # 403
        await client.post(TOKEN_PATH, data={"grant_type": "nonsense"}),  # 400 (RFC 6749)
        await client.post(TOKEN_PATH, data=desk.agency.token_form()),  # 200
        await client.post("/oauth/introspect", data={"token": "x"}),  # 401
        await client.get("/v1/nowhere", headers=desk.headers),  # 404
    ]
    assert {answer.status_code for answer in answers} == {200, 400, 401, 403, 404}
    for answer in answers:
        assert answer.headers.get_list("cache-control") == ["no-store"], answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"
    # Elsewhere, nosniff too, and what the endpoint says about caching stands.
    jwks = await client.get("/.well-known/jwks.json")
    assert jwks.headers["x-content-type-options"] == "nosniff"
    assert jwks.headers["cache-control"] == "max-age=300"


@pytest.mark.parametrize("path", ["/v1/alerts/", "/v1/substances/", "/healthz/", "/oauth/token/"])
async def test_no_redirect_is_built_from_the_host_header(
    client: httpx.AsyncClient, registry: Registry, path: str
) -> None:
    desk = await open_desk(registry, client)
    response = await client.get(path, headers={**desk.headers, "Host": "evil.example"})
    assert "location" not in response.headers, response.headers
    assert response.status_code in {404, 405}, response.text
    assert "evil.example" not in response.text


def test_the_real_server_sends_no_banner(served: str) -> None:  # noqa: F811 (fixture)
    response = httpx.get(f"{served}/healthz", timeout=5)
    assert response.status_code == 200
    assert "server" not in response.headers


async def test_the_docs_page_loads_only_local_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert referenced, page.text
    assert not re.search(r"https?://", page.text), "the page names a remote resource"
    for asset in referenced:
        assert asset.startswith("/docs/assets/"), asset
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 500, asset
    assert (await client.get("/redoc")).status_code == 404


async def test_the_docs_authorize_button_takes_a_bearer_token(app: FastAPI) -> None:
    document = app.openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearer"]["description"],
    }
    assert {"bearer": []} in document["paths"]["/v1/alerts"]["get"]["security"]
