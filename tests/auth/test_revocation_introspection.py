"""POST /oauth/revoke (RFC 7009) and POST /oauth/introspect (RFC 7662)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from tests.audit.conftest import stored_entries
from tests.auth.conftest import assert_oauth_error
from tests.auth.forge import claims_of, tamper
from tests.auth_helpers import ASSERTION_TYPE, Registry, TestAgency
from tests.conftest import ISSUER


def authenticated(agency: TestAgency, **form: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": agency.assertion(), **form}


@pytest.fixture
async def agency(registry: Registry) -> TestAgency:
    return await registry.agency(kind="prosecution", country="FR", scopes="alerts:read")


async def introspect(client: httpx.AsyncClient, asker: TestAgency, token: str) -> dict[str, object]:
    response = await client.post("/oauth/introspect", data=authenticated(asker, token=token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, object] = response.json()
    return answer


async def test_introspection_of_an_own_active_token(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    token = (await agency.token(client, officer="FR-PARQUET-11"))["access_token"]
    claims = claims_of(token)
    assert await introspect(client, agency, token) == {
        "active": True,
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": "FR-PARQUET-11",
        "client_id": agency.client_id,
        "agency": str(agency.id),
        "scope": "alerts:read",
        "jti": claims["jti"],
        "iat": claims["iat"],
        "exp": claims["exp"],
        "token_type": "Bearer",
    }


async def test_introspection_of_a_bound_token_names_its_key(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    token = (await agency.token(client, dpop=True))["access_token"]
    answer = await introspect(client, agency, token)
    assert answer["token_type"] == "DPoP"
    assert answer["cnf"] == {"jkt": agency.dpop_key.thumbprint()}


async def test_another_clients_token_is_inactive_unless_the_asker_is_admin(
    client: httpx.AsyncClient, agency: TestAgency, registry: Registry
) -> None:
    token = (await agency.token(client))["access_token"]
    stranger = await registry.agency(scopes="alerts:read alerts:write")
    assert await introspect(client, stranger, token) == {"active": False}
    agency_admin = await registry.agency(scopes="clients:admin")
    assert await introspect(client, agency_admin, token) == {"active": False}
    admin = await registry.agency(scopes="network:admin clients:admin")
    assert (await introspect(client, admin, token))["active"] is True


async def test_invalid_revoked_and_disabled_tokens_are_inactive(
    client: httpx.AsyncClient, agency: TestAgency, registry: Registry
) -> None:
    token = (await agency.token(client))["access_token"]
    assert await introspect(client, agency, "not-a-token") == {"active": False}
    assert await introspect(client, agency, tamper(token, scope="network:admin")) == {
        "active": False
    }

    revoked = (await agency.token(client))["access_token"]
    response = await client.post("/oauth/revoke", data=authenticated(agency, token=revoked))
    assert response.status_code == 200
    assert await introspect(client, agency, revoked) == {"active": False}
    assert (await introspect(client, agency, token))["active"] is True

    admin = await registry.agency(scopes="network:admin clients:admin alerts:read alerts:write")
    await client.post(
        f"/v1/admin/clients/{agency.client_id}/disable", headers=await admin.headers(client)
    )
    assert await introspect(client, admin, token) == {"active": False}


async def test_introspection_and_revocation_need_client_authentication(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    token = (await agency.token(client))["access_token"]
    for path in ("/oauth/introspect", "/oauth/revoke"):
        assert_oauth_error(await client.post(path, data={"token": token}), 401, "invalid_client")
        bad = {"token": token, "client_assertion_type": ASSERTION_TYPE, "client_assertion": "x"}
        assert_oauth_error(await client.post(path, data=bad), 401, "invalid_client")
        assert_oauth_error(
            await client.post(path, data=authenticated(agency)), 400, "invalid_request"
        )


async def test_revoking_twice_or_revoking_garbage_succeeds(
    client: httpx.AsyncClient, agency: TestAgency
) -> None:
    token = (await agency.token(client))["access_token"]
    for candidate in (token, token, "not-a-token"):
        response = await client.post(
            "/oauth/revoke",
            data=authenticated(agency, token=candidate, token_type_hint="access_token"),
        )
        assert response.status_code == 200, response.text
        assert response.content == b""


async def test_a_client_cannot_revoke_another_clients_token(
    client: httpx.AsyncClient, agency: TestAgency, registry: Registry
) -> None:
    token = (await agency.token(client))["access_token"]
    other = await registry.agency()
    response = await client.post("/oauth/revoke", data=authenticated(other, token=token))
    assert_oauth_error(response, 400, "unauthorized_client")
    assert (await introspect(client, agency, token))["active"] is True


async def test_every_introspection_is_audited_as_the_client_that_asked(
    app: FastAPI, client: httpx.AsyncClient, agency: TestAgency, registry: Registry
) -> None:
    token = (await agency.token(client, officer="FR-PARQUET-11"))["access_token"]
    stranger = await registry.agency(scopes="alerts:read")
    admin = await registry.agency(scopes="network:admin clients:admin")
    await introspect(client, stranger, token)
    await introspect(client, admin, token)
    await introspect(client, admin, "not-a-token")

    entries = [e for e in stored_entries(app) if e["action"] == "token.introspect"]

    jti = claims_of(token)["jti"]
    assert [
        (e["client_id"], e["agency"], e["actor"], e["resource_ids"], e["result_count"])
        for e in entries
    ] == [
        (stranger.client_id, str(stranger.id), None, [jti], 0),
        (admin.client_id, str(admin.id), None, [jti], 1),
        (admin.client_id, str(admin.id), None, [], 0),
    ]
    assert all(token not in json.dumps(entry) for entry in entries)
