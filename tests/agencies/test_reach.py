"""Who may administer which clients: no agency's client acts for another agency, no client grants
a scope it does not hold, none disables itself, and only the command line makes an operator.

Each fault found by the security test of the old global ``admin`` scope is replayed here: an
agency's own client registered a client for another agency with ``admin`` and ``audit:read``,
and an admin client could disable itself.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import ECKey

from tests.agencies.test_admin_api import CLIENTS, assert_problem
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry, TestAgency
from tests.conftest import Cli

LOCAL_ADMIN = "alerts:read alerts:write clients:admin"
OPERATOR = "clients:admin network:admin"


def client_body(agency: TestAgency, scopes: list[str]) -> dict[str, Any]:
    key = ECKey.generate_key("P-256")
    return {
        "agency_id": str(agency.id),
        "name": "another system",
        "scopes": scopes,
        "jwks": {"keys": [key.as_dict(private=False)]},
    }


@pytest.fixture
async def police(registry: Registry) -> TestAgency:
    return await registry.agency(kind="law_enforcement", scopes=LOCAL_ADMIN)


@pytest.fixture
async def customs(registry: Registry) -> TestAgency:
    return await registry.agency(kind="customs")


async def test_an_agency_admin_registers_no_client_for_another_agency(
    client: httpx.AsyncClient, police: TestAgency, customs: TestAgency
) -> None:
    headers = await police.headers(client)
    for scopes in (["alerts:write"], ["alerts:write", "clients:admin"]):
        response = await client.post(CLIENTS, json=client_body(customs, scopes), headers=headers)
        assert_problem(response, 403, "agency-out-of-reach")
    listed = await client.get(CLIENTS, params={"agency_id": str(customs.id)}, headers=headers)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    "scopes",
    [["audit:read"], ["network:admin"], ["alerts:read", "audit:read"]],
    ids=["audit:read", "network:admin", "with audit:read"],
)
async def test_an_agency_admin_grants_no_scope_it_lacks_or_reserved_to_the_operator(
    client: httpx.AsyncClient, registry: Registry, scopes: list[str]
) -> None:
    # Even holding audit:read itself, an agency's admin may not pass it on: it is network-wide.
    police = await registry.agency(scopes=f"{LOCAL_ADMIN} audit:read")
    response = await client.post(
        CLIENTS, json=client_body(police, scopes), headers=await police.headers(client)
    )
    problem = assert_problem(response, 403, "scopes-not-grantable")
    assert problem["scopes"] == sorted(set(scopes) & {"audit:read", "network:admin"})


async def test_an_agency_admin_registers_its_own_agencys_clients_within_its_scopes(
    client: httpx.AsyncClient, police: TestAgency, registry: Registry
) -> None:
    narrow = await registry.agency(scopes="alerts:read clients:admin")
    headers = await narrow.headers(client)
    refused = await client.post(
        CLIENTS, json=client_body(narrow, ["alerts:write"]), headers=headers
    )
    assert assert_problem(refused, 403, "scopes-not-grantable")["scopes"] == ["alerts:write"]

    headers = await police.headers(client)
    made = await client.post(
        CLIENTS, json=client_body(police, ["alerts:read", "clients:admin"]), headers=headers
    )
    assert made.status_code == 201, made.text
    listed = (await client.get(CLIENTS, headers=headers)).json()["items"]
    assert {item["agency_id"] for item in listed} == {str(police.id)}
    assert {item["client_id"] for item in listed} == {police.client_id, made.json()["client_id"]}


async def test_no_client_disables_itself(
    client: httpx.AsyncClient, police: TestAgency, registry: Registry
) -> None:
    operator = await registry.agency(scopes=OPERATOR)
    for admin in (police, operator):
        headers = await admin.headers(client)
        response = await client.post(f"{CLIENTS}/{admin.client_id}/disable", headers=headers)
        assert_problem(response, 403, "own-client")
        assert (await client.get(CLIENTS, headers=headers)).status_code == 200


async def test_an_agency_admin_cannot_touch_another_agencys_client(
    app: FastAPI, client: httpx.AsyncClient, police: TestAgency, customs: TestAgency
) -> None:
    headers = await police.headers(client)
    for action in ("disable", "enable"):
        response = await client.post(f"{CLIENTS}/{customs.client_id}/{action}", headers=headers)
        assert_problem(response, 404, "not-found")
    assert (await client.get("/v1/substances", headers=await customs.headers(client))).is_success
    refusals = [
        entry
        for entry in stored_entries(app)
        if entry["action"] == "access.denied" and entry["client_id"] == police.client_id
    ]
    assert [entry["outcome"] for entry in refusals] == ["denied", "denied"]


async def test_an_agency_admin_cannot_lock_out_a_client_it_could_not_have_made(
    client: httpx.AsyncClient, police: TestAgency, registry: Registry, cli: Cli
) -> None:
    """The operator's client may sit in an agency with its own admin: that admin cannot disable
    it, nor a client holding audit:read."""
    done = cli("clients", "add", "--agency", str(police.id), "--scopes", OPERATOR, "--secret")
    assert done.returncode == 0, done.stderr
    operator_client = json.loads(done.stdout)["client_id"]
    headers = await police.headers(client)
    response = await client.post(f"{CLIENTS}/{operator_client}/disable", headers=headers)
    assert assert_problem(response, 403, "scopes-not-grantable")["scopes"] == ["network:admin"]

    colleague = await client.post(
        CLIENTS, json=client_body(police, ["alerts:read"]), headers=headers
    )
    colleague_id = colleague.json()["client_id"]
    for action in ("disable", "enable"):
        response = await client.post(f"{CLIENTS}/{colleague_id}/{action}", headers=headers)
        assert response.status_code == 200, response.text


async def test_the_network_operator_reaches_every_agency_but_makes_no_operator(
    client: httpx.AsyncClient, customs: TestAgency, registry: Registry
) -> None:
    operator = await registry.agency(
        kind="regulatory", scopes=f"{OPERATOR} alerts:read alerts:write"
    )
    headers = await operator.headers(client)
    made = await client.post(CLIENTS, json=client_body(customs, ["alerts:read"]), headers=headers)
    assert made.status_code == 201, made.text
    for scopes in (["network:admin"], ["audit:read"]):
        refused = await client.post(CLIENTS, json=client_body(customs, scopes), headers=headers)
        assert assert_problem(refused, 403, "scopes-not-grantable")["scopes"] == scopes
    disabled = await client.post(f"{CLIENTS}/{customs.client_id}/disable", headers=headers)
    assert disabled.status_code == 200, disabled.text
    enabled = await client.post(f"{CLIENTS}/{customs.client_id}/enable", headers=headers)
    assert enabled.status_code == 200, enabled.text


async def test_the_network_operator_grants_audit_read_only_if_it_holds_it(
    client: httpx.AsyncClient, customs: TestAgency, registry: Registry
) -> None:
    operator = await registry.agency(scopes=f"{OPERATOR} audit:read")
    headers = await operator.headers(client)
    made = await client.post(CLIENTS, json=client_body(customs, ["audit:read"]), headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["scopes"] == ["audit:read"]


async def test_agencies_are_the_network_operators_alone(
    client: httpx.AsyncClient, police: TestAgency
) -> None:
    headers = await police.headers(client, scopes="clients:admin")
    for response in (
        await client.get("/v1/admin/agencies", headers=headers),
        await client.post(
            "/v1/admin/agencies",
            json={"name": "Rogue", "country": "NL", "kind": "customs"},
            headers=headers,
        ),
    ):
        assert assert_problem(response, 403, "insufficient-scope")["required_scope"] == (
            "network:admin"
        )
