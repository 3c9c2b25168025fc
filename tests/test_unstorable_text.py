"""Text a database cannot store (a NUL, an unpaired surrogate) is a 400 wherever it comes in, on
both backends alike — never a 500 from PostgreSQL — and a refused token request is still
recorded as ``token.deny``."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.alerts.http import assert_problem, open_desk
from tests.audit.conftest import stored_entries
from tests.auth.conftest import assert_oauth_error
from tests.auth_helpers import ASSERTION_TYPE, TOKEN_PATH, Registry

UNSTORABLE = ["a\x00b", "a\ud800b"]


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def basic(user: str) -> dict[str, str]:
    raw = f"{user}:secret".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def test_a_basic_user_name_is_refused_and_recorded(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # (An unpaired surrogate is not UTF-8: already malformed Basic credentials, 401.)
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        headers={**basic("a\x00b"), "X-Request-ID": "req-nul-basic"},
    )
    assert_oauth_error(response, 400, "invalid_request")
    [entry] = [e for e in stored_entries(app) if e["request_id"] == "req-nul-basic"]
    assert (entry["action"], entry["outcome"], entry["client_id"]) == (
        "token.deny",
        "denied",
        None,
    )


@pytest.mark.parametrize("value", UNSTORABLE)
async def test_a_client_assertion_iss_is_refused_and_recorded(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry, value: str
) -> None:
    agency = await registry.agency()
    signed = agency.assertion(claims={"iss": "placeholder"}).split(".")
    # The issuer is looked up before the signature is checked: keep the real signature, and put
    # the value in as JSON escapes (the JOSE library will not sign an unpaired surrogate).
    claims = json.loads(b64decode(signed[1])) | {"iss": value}
    signed[1] = b64encode(json.dumps(claims).encode())
    assertion = ".".join(signed)
    response = await client.post(
        TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        headers={"X-Request-ID": "req-nul-iss"},
    )
    assert_oauth_error(response, 400, "invalid_request")
    [entry] = [e for e in stored_entries(app) if e["request_id"] == "req-nul-iss"]
    assert entry["action"] == "token.deny"


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
async def test_introspection_and_revocation_refuse_it(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, data={"token": "x"}, headers=basic("a\x00b"))
    assert_oauth_error(response, 400, "invalid_request")


async def test_the_api_refuses_it_in_bodies_queries_and_paths(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    desk = await open_desk(
        registry, client, scopes="alerts:read network:admin clients:admin audit:read"
    )
    agency: dict[str, Any] = {"name": "a\x00b", "country": "NL", "kind": "customs"}
    refused = [
        await client.post("/v1/admin/agencies", json=agency, headers=desk.headers),
        await client.get("/v1/audit/events", params={"actor": "a\x00b"}, headers=desk.headers),
        await client.get("/v1/audit/events", params={"client_id": "a\x00b"}, headers=desk.headers),
        await client.post("/v1/admin/clients/a%00b/disable", headers=desk.headers),
    ]
    for response in refused:
        assert_problem(response, 400, "unstorable-text")
    # What was refused was not stored, and the service goes on.
    listed = await client.get("/v1/admin/agencies", headers=desk.headers)
    assert listed.status_code == 200
    assert all("\x00" not in item["name"] for item in listed.json()["items"])
    search = await client.get("/v1/alerts", params={"party": "x"}, headers=desk.reading())
    assert search.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"X-Purpose": "case\x00 1"}, {"Idempotency-Key": "k\x00"}],
)
async def test_headers_holding_it_are_refused(
    client: httpx.AsyncClient, registry: Registry, headers: dict[str, str]
) -> None:
    desk = await open_desk(registry, client)
    response = await client.get(
        "/v1/alerts", params={"party": "x"}, headers={**desk.headers, **headers}
    )
    assert response.status_code == 400, response.text
