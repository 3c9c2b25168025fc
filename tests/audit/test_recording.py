"""What the recorder writes for tokens, refusals and reads of the log, through the real app."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from fastapi import FastAPI

from exchange_api.errors import PROBLEM_MEDIA_TYPE
from tests.audit.conftest import AUDITOR_OFFICER, stored_entries
from tests.auth_helpers import TOKEN_PATH, Registry


def token_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


async def test_an_issued_token_is_recorded_with_who_it_is_for(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    agency = await registry.agency(kind="customs", scopes="alerts:read")
    answer = await agency.token(client, officer="NL-DOUANE-0042")

    [entry] = [e for e in stored_entries(app) if e["action"] == "token.issue"]
    assert entry["outcome"] == "allowed"
    assert entry["actor"] == "NL-DOUANE-0042"
    assert entry["client_id"] == agency.client_id
    assert entry["agency"] == str(agency.id)
    assert entry["token_id"] == token_claims(answer["access_token"])["jti"]
    assert entry["source_ip"] == "127.0.0.1"
    assert entry["request_id"]


async def test_a_refused_token_request_is_recorded_as_denied(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    agency = await registry.agency(scopes="alerts:read")
    form = agency.token_form(scopes="admin")  # a scope the client was not given

    response = await client.post(TOKEN_PATH, data=form, headers={"X-Request-ID": "req-scope-1"})

    assert response.status_code == 400
    [entry] = [e for e in stored_entries(app) if e["action"] == "token.deny"]
    assert entry["outcome"] == "denied"
    assert entry["client_id"] == agency.client_id
    assert entry["actor"] is None
    assert entry["token_id"] is None
    assert entry["request_id"] == "req-scope-1"


async def test_a_request_without_a_token_is_recorded_as_denied(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.get("/v1/audit/events", headers={"X-Request-ID": "req-anon-1"})

    assert response.status_code == 401
    [entry] = stored_entries(app)
    assert entry["action"] == "access.denied"
    assert entry["outcome"] == "denied"
    assert (entry["actor"], entry["client_id"], entry["token_id"]) == (None, None, None)
    assert entry["request_id"] == "req-anon-1"


async def test_a_missing_scope_is_recorded_as_denied_with_the_caller(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    agency = await registry.agency(kind="law_enforcement", scopes="alerts:read")
    headers = await agency.headers(client, officer="DE-BKA-1234")

    response = await client.get("/v1/audit/events", headers=headers)

    assert response.status_code == 403
    [entry] = [e for e in stored_entries(app) if e["action"] == "access.denied"]
    assert entry["outcome"] == "denied"
    assert entry["actor"] == "DE-BKA-1234"
    assert entry["client_id"] == agency.client_id
    assert entry["agency"] == str(agency.id)
    assert entry["token_id"] is not None


async def test_a_revoked_token_is_recorded_as_denied_with_its_client(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    agency = await registry.agency(scopes="audit:read")
    answer = await agency.token(client)
    revocation = await client.post(
        "/oauth/revoke",
        data={
            "token": answer["access_token"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": agency.assertion(),
        },
    )
    assert revocation.status_code == 200

    response = await client.get(
        "/v1/audit/keys", headers={"Authorization": f"Bearer {answer['access_token']}"}
    )

    assert response.status_code == 401
    actions = [(e["action"], e["outcome"], e["client_id"]) for e in stored_entries(app)]
    assert actions == [
        ("token.issue", "allowed", agency.client_id),
        ("token.revoke", "allowed", agency.client_id),
        ("access.denied", "denied", agency.client_id),
    ]


async def test_reading_the_log_is_itself_recorded(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    events = await client.get(
        "/v1/audit/events", headers={**auditor, "X-Purpose": "annual review 2026"}
    )
    keys = await client.get("/v1/audit/keys", headers=auditor)
    export = await client.get("/v1/audit/export", headers=auditor)

    assert (events.status_code, keys.status_code, export.status_code) == (200, 200, 200)
    reads = [e for e in stored_entries(app) if e["action"].startswith("audit.")]
    assert [e["action"] for e in reads] == ["audit.read", "audit.read", "audit.export"]
    assert all(e["actor"] == AUDITOR_OFFICER for e in reads)
    assert reads[0]["result_count"] == 1  # the auditor's own token.issue
    assert reads[0]["request_id"] == events.headers["x-request-id"]
    assert [e["purpose"] for e in reads] == ["annual review 2026", None, None]


async def test_each_entry_names_the_request_it_came_from(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    response = await client.get("/v1/audit/keys", headers={**auditor, "X-Request-ID": "case-42"})

    assert response.headers["x-request-id"] == "case-42"
    assert stored_entries(app)[-1]["request_id"] == "case-42"


async def test_refusal_answers_stay_problem_documents(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/audit/keys")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "www-authenticate" in response.headers


async def test_admin_actions_are_recorded_with_what_they_touched(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    operator = await registry.agency(
        kind="regulatory", scopes="alerts:read alerts:write audit:read network:admin clients:admin"
    )
    admin = await operator.headers(client, officer="EU-ADMIN-1")
    agency = await client.post(
        "/v1/admin/agencies",
        json={"name": "Douane Nederland", "country": "NL", "kind": "customs"},
        headers=admin,
    )
    agency_id = agency.json()["id"]
    registered = await client.post(
        "/v1/admin/clients",
        json={
            "agency_id": agency_id,
            "name": "Douane system",
            "scopes": ["alerts:read"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        headers=admin,
    )
    client_id = registered.json()["client_id"]
    await client.get("/v1/admin/agencies", headers=admin)
    await client.get("/v1/admin/clients", headers=admin)
    await client.post(f"/v1/admin/clients/{client_id}/disable", headers=admin)

    admin_entries = [e for e in stored_entries(app) if e["action"].startswith("admin.")]
    assert [(e["action"], e["resource_ids"]) for e in admin_entries] == [
        ("admin.agency.create", [agency_id]),
        ("admin.client.create", [client_id]),
        ("admin.agency.list", []),
        ("admin.client.list", []),
        ("admin.client.disable", [client_id]),
    ]
    assert {e["actor"] for e in admin_entries} == {"EU-ADMIN-1"}
    assert admin_entries[2]["result_count"] == 2  # the operator's agency and the new one
    # The secret shown once to the caller never reaches the log.
    secret = registered.json()["client_secret"]
    assert all(secret not in json.dumps(e) for e in stored_entries(app))
