"""The directory: every member lists and reads the member agencies, with any valid token."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from exchange_api.auth.scopes import Scope
from tests.alerts.http import assert_problem
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry

DIRECTORY = "/v1/agencies"


async def _names(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    response = await client.get(DIRECTORY, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
async def members(registry: Registry) -> dict[str, uuid.UUID]:
    made = {}
    for name, kind, country in (
        ("Douane Nederland", "customs", "NL"),
        ("Zoll Deutschland", "customs", "DE"),
        ("Bundeskriminalamt", "law_enforcement", "DE"),
        ("Politie Nederland (50%_off)", "law_enforcement", "NL"),
    ):
        made[name] = (await registry.agency(kind=kind, country=country, name=name)).id
    return made


@pytest.mark.parametrize("scope", sorted(Scope))
async def test_any_scope_reads_the_directory(
    client: httpx.AsyncClient, registry: Registry, members: dict[str, uuid.UUID], scope: str
) -> None:
    reader = await registry.agency(kind="industry", scopes=scope)
    headers = await reader.headers(client)

    response = await client.get(DIRECTORY, params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    items = {item["name"]: item for item in response.json()["items"]}
    assert items["Zoll Deutschland"] == {
        "id": str(members["Zoll Deutschland"]),
        "name": "Zoll Deutschland",
        "country": "DE",
        "kind": "customs",
    }
    one = await client.get(f"{DIRECTORY}/{members['Bundeskriminalamt']}", headers=headers)
    assert one.status_code == 200, one.text
    assert one.json() == {
        "id": str(members["Bundeskriminalamt"]),
        "name": "Bundeskriminalamt",
        "country": "DE",
        "kind": "law_enforcement",
    }


async def test_filters_combine_and_q_ignores_case(
    client: httpx.AsyncClient, registry: Registry, members: dict[str, uuid.UUID]
) -> None:
    headers = await (await registry.agency(country="BE")).headers(client)

    assert await _names(client, headers, country="DE") == ["Zoll Deutschland", "Bundeskriminalamt"]
    assert await _names(client, headers, kind="customs", country="NL") == ["Douane Nederland"]
    # A country as officers type it is read as its code.
    assert await _names(client, headers, kind="customs", country="nl") == ["Douane Nederland"]
    assert await _names(client, headers, q="NEDERLAND") == [
        "Douane Nederland",
        "Politie Nederland (50%_off)",
    ]
    assert await _names(client, headers, q="deutsch", kind="law_enforcement") == []
    # LIKE wildcards in q match themselves only.
    assert await _names(client, headers, q="%_") == ["Politie Nederland (50%_off)"]
    assert await _names(client, headers, q="%") == ["Politie Nederland (50%_off)"]


async def test_pages_follow_next_cursor_and_the_link_header(
    client: httpx.AsyncClient, registry: Registry, members: dict[str, uuid.UUID]
) -> None:
    headers = await (await registry.agency(country="BE")).headers(client)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"kind": "customs", "limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(DIRECTORY, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 1
        seen.extend(item["name"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"].endswith('rel="next"')
    assert seen == ["Douane Nederland", "Zoll Deutschland"]


async def test_the_directory_is_audited(
    client: httpx.AsyncClient, registry: Registry, members: dict[str, uuid.UUID], app: FastAPI
) -> None:
    reader = await registry.agency(country="BE")
    headers = await reader.headers(client)
    await _names(client, headers, country="DE")
    target = members["Zoll Deutschland"]
    assert (await client.get(f"{DIRECTORY}/{target}", headers=headers)).status_code == 200

    entries = [e for e in stored_entries(app) if e["agency"] == str(reader.id)]
    listed = [e for e in entries if e["action"] == "agency.list"]
    read = [e for e in entries if e["action"] == "agency.read"]
    assert [(e["result_count"], e["resource_ids"]) for e in listed] == [(2, [])]
    assert [e["resource_ids"] for e in read] == [[str(target)]]


@pytest.mark.parametrize(
    "params",
    [
        {"country": "XX"},
        {"kind": "pirates"},
        {"q": ""},
        {"q": "a\x00b"},
        {"limit": "0"},
        {"cursor": "not-a-cursor"},
        {"name": "Zoll"},
    ],
)
async def test_bad_parameters_are_400(
    client: httpx.AsyncClient, registry: Registry, params: dict[str, str]
) -> None:
    headers = await (await registry.agency()).headers(client)
    response = await client.get(DIRECTORY, params=params, headers=headers)
    assert response.status_code == 400, response.text
    for value in params.values():
        if len(value) > 2:
            assert value not in response.text


async def test_no_token_is_401_and_an_unknown_agency_404(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    for path in (DIRECTORY, f"{DIRECTORY}/{uuid.uuid4()}"):
        anonymous = await client.get(path)
        assert_problem(anonymous, 401, "missing-token")
    headers = await (await registry.agency()).headers(client)
    assert_problem(
        await client.get(f"{DIRECTORY}/{uuid.uuid4()}", headers=headers), 404, "not-found"
    )
