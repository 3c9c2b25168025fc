"""The admin API: agencies and clients registered over HTTP, and what each registration allows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from exchange_api.errors import PROBLEM_MEDIA_TYPE
from exchange_api.models.agencies import AgencyKind
from tests.auth_helpers import Registry, Serving, TestAgency

AGENCIES = "/v1/admin/agencies"
CLIENTS = "/v1/admin/clients"
OPERATOR_SCOPES = "network:admin clients:admin alerts:read alerts:write"


@pytest.fixture
async def admin(client: httpx.AsyncClient, registry: Registry) -> dict[str, str]:
    operator = await registry.agency(kind="regulatory", scopes=OPERATOR_SCOPES)
    return await operator.headers(client)


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:exchange-api:problem:{slug}"
    return body


async def new_agency(
    client: httpx.AsyncClient, admin: dict[str, str], **changes: Any
) -> dict[str, Any]:
    body = {"name": f"Agency {uuid.uuid4().hex[:8]}", "country": "NL", "kind": "customs", **changes}
    response = await client.post(AGENCIES, json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_register_and_list_agencies(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await new_agency(client, admin, name="  Douane Nederland  ", kind="customs")
    assert created["name"] == "Douane Nederland"
    assert created["country"] == "NL"
    assert created["kind"] == "customs"
    assert uuid.UUID(created["id"]).version == 7

    listed = (await client.get(AGENCIES, headers=admin)).json()
    assert created in listed["items"]
    assert listed["next_cursor"] is None


async def test_agencies_are_paged_in_registration_order(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for _ in range(3):
        await new_agency(client, admin)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(AGENCIES, params=params, headers=admin)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4  # the operator's own agency and three new ones
    assert seen == sorted(seen)


async def test_agency_names_are_unique(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await new_agency(client, admin)
    again = {"name": created["name"], "country": "BE", "kind": "industry"}
    assert_problem(await client.post(AGENCIES, json=again, headers=admin), 409, "conflict")
    documented = (await client.get("/openapi.json")).json()["paths"][AGENCIES]["post"]
    assert "409" in documented["responses"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "country": "XX", "kind": "customs"},
        {"name": "X", "country": "NL", "kind": "police"},
        {"name": "", "country": "NL", "kind": "customs"},
        {"name": "X", "country": "NL", "kind": "customs", "id": str(uuid.uuid4())},
        {"name": "Douane\nINFO forged log line", "country": "NL", "kind": "customs"},
        {"name": "Douane \x1b[2J", "country": "NL", "kind": "customs"},
        {"name": "Douane \u202eenaoD", "country": "NL", "kind": "customs"},
        {"name": "Dou\x85ane", "country": "NL", "kind": "customs"},
    ],
    ids=[
        "unknown country",
        "unknown kind",
        "empty name",
        "extra field",
        "newline",
        "escape sequence",
        "right-to-left override",
        "C1 control",
    ],
)
async def test_invalid_agencies_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, str]
) -> None:
    assert_problem(await client.post(AGENCIES, json=body, headers=admin), 422, "validation-error")
    listed = (await client.get(AGENCIES, headers=admin)).json()["items"]
    assert body["name"].strip() not in [agency["name"] for agency in listed]


async def test_a_client_name_with_a_control_character_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    agency = await new_agency(client, admin)
    key = ECKey.generate_key("P-256")
    body = client_body(agency["id"], key, name="case system\r\nforged")
    problem = assert_problem(
        await client.post(CLIENTS, json=body, headers=admin), 422, "validation-error"
    )
    assert "forged" not in str(problem)


def client_body(agency_id: str, key: Any, **changes: Any) -> dict[str, Any]:
    return {
        "agency_id": agency_id,
        "name": "case management system",
        "scopes": ["alerts:write", "alerts:read", "alerts:read"],
        "jwks": {"keys": [key.as_dict(private=False)]},
        **changes,
    }


async def test_a_registered_client_gets_tokens_with_its_key(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any
) -> None:
    agency = await new_agency(client, admin, kind="law_enforcement")
    key = ECKey.generate_key("P-256")
    response = await client.post(CLIENTS, json=client_body(agency["id"], key), headers=admin)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    registered = response.json()
    assert registered["scopes"] == ["alerts:read", "alerts:write"]
    assert registered["token_endpoint_auth_method"] == "private_key_jwt"
    assert registered["client_secret"] is None
    assert registered["disabled_at"] is None
    [stored_key] = registered["jwks"]["keys"]
    assert stored_key["kid"] == key.thumbprint()
    assert "d" not in stored_key

    holder = TestAgency(
        id=uuid.UUID(agency["id"]),
        kind=AgencyKind(agency["kind"]),
        client_id=registered["client_id"],
        private_key=key,
        issuer=app.state.oauth.issuer,
    )
    answer = await holder.token(client)
    assert answer["scope"] == "alerts:read alerts:write"


async def test_clients_are_listed_per_agency(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    agency = await new_agency(client, admin)
    ids = []
    for _ in range(2):
        body = client_body(agency["id"], ECKey.generate_key("P-256"))
        ids.append((await client.post(CLIENTS, json=body, headers=admin)).json()["client_id"])
    listed = await client.get(CLIENTS, params={"agency_id": agency["id"]}, headers=admin)
    assert [item["client_id"] for item in listed.json()["items"]] == sorted(ids)
    first = await client.get(CLIENTS, params={"agency_id": agency["id"], "limit": 1}, headers=admin)
    assert [item["client_id"] for item in first.json()["items"]] == sorted(ids)[:1]
    rest = await client.get(
        CLIENTS,
        params={"agency_id": agency["id"], "cursor": first.json()["next_cursor"]},
        headers=admin,
    )
    assert [item["client_id"] for item in rest.json()["items"]] == sorted(ids)[1:]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("jwks", "reason"),
    [
        (lambda: {"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}, "private"),
        (lambda: {"keys": [ECKey.generate_key("P-384").as_dict()]}, "P-256"),
        (lambda: {"keys": [OKPKey.generate_key("Ed448").as_dict()]}, "Ed25519"),
        (lambda: {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "private"),
        (lambda: {"keys": []}, "between 1 and 5"),
        (lambda: {"keys": [ECKey.generate_key("P-256").as_dict()] * 2}, "distinct"),
        (lambda: {"keys": [{**ECKey.generate_key("P-256").as_dict(), "use": "enc"}]}, "use"),
        (lambda: {"keys": [{**ECKey.generate_key("P-256").as_dict(), "alg": "HS256"}]}, "alg"),
        (lambda: {"not": "a jwks"}, "JWKS"),
    ],
    ids=[
        "private key",
        "P-384",
        "Ed448",
        "symmetric",
        "empty",
        "duplicate",
        "use enc",
        "alg HS256",
        "not a JWKS",
    ],
)
async def test_unacceptable_keys_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], jwks: Any, reason: str
) -> None:
    agency = await new_agency(client, admin)
    body = {**client_body(agency["id"], ECKey.generate_key("P-256")), "jwks": jwks()}
    problem = assert_problem(
        await client.post(CLIENTS, json=body, headers=admin), 422, "validation-error"
    )
    assert reason in " ".join(error["msg"] for error in problem["errors"])


async def test_a_small_rsa_key_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    agency = await new_agency(client, admin)
    public = RSAKey.generate_key(2048).as_dict()
    small_modulus = public["n"][: len(public["n"]) // 2]
    body = client_body(agency["id"], ECKey.generate_key("P-256"))
    body["jwks"] = {"keys": [{**public, "n": small_modulus}]}
    assert_problem(await client.post(CLIENTS, json=body, headers=admin), 422, "validation-error")


async def test_private_key_jwt_needs_keys_and_secrets_take_none(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    agency = await new_agency(client, admin)
    key = ECKey.generate_key("P-256")
    without = {**client_body(agency["id"], key), "jwks": None}
    assert_problem(await client.post(CLIENTS, json=without, headers=admin), 422, "validation-error")
    secret_with_keys = client_body(
        agency["id"], key, token_endpoint_auth_method="client_secret_basic"
    )
    assert_problem(
        await client.post(CLIENTS, json=secret_with_keys, headers=admin), 422, "validation-error"
    )


async def test_a_secret_client_sees_its_secret_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    agency = await new_agency(client, admin)
    body = {
        "agency_id": agency["id"],
        "name": "development system",
        "scopes": ["alerts:read"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    registered = (await client.post(CLIENTS, json=body, headers=admin)).json()
    assert len(registered["client_secret"]) >= 40
    listed = (await client.get(CLIENTS, params={"agency_id": agency["id"]}, headers=admin)).json()
    [item] = listed["items"]
    assert "client_secret" not in item
    assert registered["client_secret"] not in str(listed)


async def test_secret_clients_are_refused_when_secrets_are_off(
    serving: Serving,
) -> None:
    async with serving(allow_client_secrets=False) as (strict, registry):
        operator = await registry.agency(scopes=OPERATOR_SCOPES)
        headers = await operator.headers(strict)
        body = {
            "agency_id": str(operator.id),
            "name": "dev",
            "scopes": ["alerts:read"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        response = await strict.post(CLIENTS, json=body, headers=headers)
        assert_problem(response, 400, "client-secrets-disabled")


async def test_clients_of_unknown_agencies_are_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = client_body(str(uuid.uuid4()), ECKey.generate_key("P-256"))
    assert_problem(await client.post(CLIENTS, json=body, headers=admin), 404, "not-found")


async def test_disabling_a_client(
    client: httpx.AsyncClient, admin: dict[str, str], registry: Registry
) -> None:
    agency = await registry.agency()
    first = await client.post(f"{CLIENTS}/{agency.client_id}/disable", headers=admin)
    assert first.status_code == 200, first.text
    assert first.json()["disabled_at"] is not None
    again = await client.post(f"{CLIENTS}/{agency.client_id}/disable", headers=admin)
    assert again.json()["disabled_at"] == first.json()["disabled_at"]
    missing = await client.post(f"{CLIENTS}/no-such-client/disable", headers=admin)
    assert_problem(missing, 404, "not-found")


async def test_an_enabled_client_gets_new_tokens_and_its_old_ones_stay_refused(
    client: httpx.AsyncClient, admin: dict[str, str], registry: Registry
) -> None:
    agency = await registry.agency()
    old = await agency.headers(client)
    assert (await client.get("/v1/substances", headers=old)).status_code == 200
    await asyncio.sleep(1.1)  # token times are whole seconds: the old token is a second older
    disabled = await client.post(f"{CLIENTS}/{agency.client_id}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert (await client.get("/v1/substances", headers=old)).status_code == 401
    enabled = await client.post(f"{CLIENTS}/{agency.client_id}/enable", headers=admin)
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["disabled_at"] is None
    assert (await client.get("/v1/substances", headers=old)).status_code == 401
    await asyncio.sleep(1.1)
    fresh = await agency.headers(client)
    assert (await client.get("/v1/substances", headers=fresh)).status_code == 200
    missing = await client.post(f"{CLIENTS}/no-such-client/enable", headers=admin)
    assert_problem(missing, 404, "not-found")


async def test_unknown_query_parameters_are_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(AGENCIES, params={"kind": "customs"}, headers=admin)
    assert_problem(response, 400, "unknown-query-parameter")
