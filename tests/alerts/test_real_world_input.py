"""What officers type: substances by name, country and port spellings, container numbers with
spaces, pieces. Accepted where the meaning is certain, stored in canonical form, found by both
the canonical and the typed form; refused (naming the place, never the value) otherwise."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.http import PURPOSE, Desk, assert_problem, open_desk, push
from tests.auth_helpers import Registry


@pytest.fixture
async def desk(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client, "customs", "BE")


async def _read(client: httpx.AsyncClient, desk: Desk, alert_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/alerts/{alert_id}", headers=desk.reading())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _found(client: httpx.AsyncClient, desk: Desk, query: str) -> set[str]:
    response = await client.get(f"/v1/alerts?{query}", headers=desk.reading())
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


# --- substances -----------------------------------------------------------------------------


async def test_a_substance_by_name_only_is_matched_to_the_catalogue(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    body = minimal_body(substances=[{"name": "bmk", "quantity": 3, "unit": "t"}])
    response = await client.post("/v1/alerts", json=body, headers=desk.headers)
    assert response.status_code == 201, response.text
    [line] = response.json()["substances"]
    assert line["cas"] is None
    assert line["name"] == "bmk"
    assert (line["scheduled"], line["catalogue_cas"], line["catalogue_name"]) == (
        True,
        "103-79-7",
        "1-Phenyl-2-propanone",
    )
    alert_id = response.json()["id"]
    # Found by the catalogue's CAS number, by the name as typed and by another synonym.
    assert alert_id in await _found(client, desk, "substance=103-79-7")
    assert alert_id in await _found(client, desk, "substance_name=BMK")
    assert alert_id in await _found(client, desk, "substance_name=PhenylACETONE")


async def test_an_unknown_name_is_accepted_unscheduled_and_searchable_after_normalisation(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    name = "Methyl 2-methyl-3-phenylglycidate (new ester)"
    alert_id = await push(client, desk, minimal_body(substances=[{"name": name}]))
    [line] = (await _read(client, desk, alert_id))["substances"]
    assert line == {
        "cas": None,
        "name": name,
        "scheduled": False,
        "catalogue_cas": None,
        "catalogue_name": None,
        "quantity": None,
        "unit": None,
        "concentration_pct": None,
    }
    assert await _found(
        client, desk, "substance_name=methyl%202%20methyl%203%20phenylglycidate%20NEW%20ESTER"
    ) == {alert_id}
    assert await _found(client, desk, "substance_name=Methyl%202-methyl") == set()


async def test_an_unknown_cas_with_a_listed_name_keeps_its_number_and_says_scheduled(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    body = minimal_body(substances=[{"cas": "50-00-0", "name": "PMK glycidate"}])
    response = await client.post("/v1/alerts", json=body, headers=desk.headers)
    assert response.status_code == 201, response.text
    [line] = response.json()["substances"]
    assert (line["cas"], line["scheduled"], line["catalogue_cas"]) == (
        "50-00-0",
        True,
        "13605-48-6",
    )
    alert_id = response.json()["id"]
    assert alert_id in await _found(client, desk, "substance=50-00-0")
    assert alert_id in await _found(client, desk, "substance_name=pmk%20glycidate")


async def test_another_number_of_a_listed_substance_finds_the_same_alerts(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    by_trade_number = await push(client, desk, minimal_body(substances=[{"cas": "77-83-8"}]))
    by_other_number = await push(client, desk, minimal_body(substances=[{"cas": "41232-97-7"}]))
    by_name = await push(client, desk, minimal_body(substances=[{"name": "strawberry aldehyde"}]))
    everything = {by_trade_number, by_other_number, by_name}
    assert await _found(client, desk, "substance=77-83-8") == everything
    assert await _found(client, desk, "substance=41232-97-7") == everything
    assert await _found(client, desk, "substance_name=BMK%20ethyl%20glycidate") == everything


async def test_a_name_only_catalogue_entry_is_matched_by_a_synonym(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    alert_id = await push(
        client, desk, minimal_body(substances=[{"name": "diethyl (phenylacetyl)propanedioate"}])
    )
    [line] = (await _read(client, desk, alert_id))["substances"]
    assert (line["scheduled"], line["catalogue_cas"], line["catalogue_name"]) == (
        True,
        None,
        "DEPAPD",
    )
    assert await _found(client, desk, "substance_name=DEPAPD") == {alert_id}


@pytest.mark.parametrize(
    ("line", "loc"),
    [
        ({"quantity": 5, "unit": "kg"}, ["body", "substances", 0]),
        ({"name": "   "}, ["body", "substances", 0, "name"]),
        ({"name": "x" * 201}, ["body", "substances", 0, "name"]),
        ({"name": "\ufdfa" * 20}, ["body", "substances", 0, "name"]),  # 360 once normalised
        ({"cas": "1609-66-5"}, ["body", "substances", 0, "cas"]),
        ({"cas": "103-79-7", "quantity": 5, "unit": "barrels"}, ["body", "substances", 0, "unit"]),
    ],
)
async def test_a_substance_without_identity_or_with_a_bad_part_is_refused_by_place(
    client: httpx.AsyncClient, desk: Desk, line: dict[str, Any], loc: list[Any]
) -> None:
    response = await client.post(
        "/v1/alerts", json=minimal_body(substances=[line]), headers=desk.headers
    )
    problem = assert_problem(response, 422, "validation-error")
    assert [error["loc"] for error in problem["errors"]] == [loc]
    assert "1609-66-5" not in response.text
    assert "barrels" not in response.text


async def test_pieces_are_a_unit(client: httpx.AsyncClient, desk: Desk) -> None:
    alert_id = await push(
        client,
        desk,
        minimal_body(substances=[{"cas": "299-42-3", "quantity": 5000, "unit": "pcs"}]),
    )
    [line] = (await _read(client, desk, alert_id))["substances"]
    assert (line["quantity"], line["unit"]) == (5000, "pcs")


async def test_a_name_query_longer_than_a_name_is_a_400(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    response = await client.get(f"/v1/alerts?substance_name={'x' * 201}", headers=desk.headers)
    assert_problem(response, 400, "invalid-parameter")


# --- countries, ports, containers -----------------------------------------------------------


async def test_typed_countries_ports_and_containers_are_stored_in_canonical_form(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    body = alert_body(
        route={
            "origin": "cn",
            "transit": ["EL", " tr "],
            "destination": "UK",
            "port_of_loading": "cn sha",
            "port_of_discharge": "NL RTM",
        },
        parties=[{"role": "exporter", "name": "Kosovo Chem", "country": "xk"}],
        documents=[{"kind": "container", "number": "csqu 305438-3", "issued_by": "el"}],
        persons=[{"category": "suspect", "name": "A. Person", "nationality": "uk"}],
    )
    alert_id = await push(client, desk, body)
    alert = await _read(client, desk, alert_id)
    assert alert["route"] == {
        "origin": "CN",
        "transit": ["GR", "TR"],
        "destination": "GB",
        "port_of_loading": "CNSHA",
        "port_of_discharge": "NLRTM",
        "transport_mode": None,
    }
    assert alert["parties"][0]["country"] == "XK"
    assert alert["documents"][0]["number"] == "CSQU3054383"
    assert alert["documents"][0]["issued_by"] == "GR"
    assert alert["persons"][0]["nationality"] == "GB"
    for query in ("transit=GR", "transit=el", "destination=uk", "destination=GB", "origin=cn"):
        assert await _found(client, desk, query) == {alert_id}, query
    for typed in ("CSQU3054383", "csqu%20305438-3"):
        assert await _found(client, desk, f"document={typed}") == {alert_id}


@pytest.mark.parametrize(
    ("route", "loc"),
    [
        ({"origin": "ZZ"}, ["body", "route", "origin"]),
        ({"origin": "NLD"}, ["body", "route", "origin"]),
        ({"transit": ["TR", "QQ"]}, ["body", "route", "transit", 1]),
        ({"port_of_loading": "ZZ ABC"}, ["body", "route", "port_of_loading"]),
        ({"port_of_loading": "NL R1M"}, ["body", "route", "port_of_loading"]),
    ],
)
async def test_wrong_countries_and_ports_are_refused_by_place_without_the_value(
    client: httpx.AsyncClient, desk: Desk, route: dict[str, Any], loc: list[Any]
) -> None:
    response = await client.post("/v1/alerts", json=minimal_body(route=route), headers=desk.headers)
    problem = assert_problem(response, 422, "validation-error")
    assert [error["loc"] for error in problem["errors"]] == [loc]
    for value in route.values():
        for text in value if isinstance(value, list) else [value]:
            if text not in ("TR",):
                assert text not in response.text


async def test_a_container_number_with_a_wrong_check_digit_is_refused_without_the_value(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    body = minimal_body(documents=[{"kind": "container", "number": "csqu 305438-4"}])
    response = await client.post("/v1/alerts", json=body, headers=desk.headers)
    problem = assert_problem(response, 422, "validation-error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "documents", 0, "number"]]
    assert "305438" not in response.text


async def test_other_document_numbers_are_kept_as_sent(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    body = minimal_body(documents=[{"kind": "bill_of_lading", "number": "sha-rtm 7788"}])
    alert_id = await push(client, desk, body)
    assert (await _read(client, desk, alert_id))["documents"][0]["number"] == "sha-rtm 7788"


async def test_agencies_take_typed_country_codes(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    admin = await registry.agency(
        scopes="alerts:read alerts:write audit:read network:admin clients:admin"
    )
    headers = await admin.headers(client)
    response = await client.post(
        "/v1/admin/agencies",
        json={"name": "Hellenic Customs", "country": "el", "kind": "customs"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["country"] == "GR"


async def test_search_refuses_a_wrong_country_as_a_400(
    client: httpx.AsyncClient, desk: Desk
) -> None:
    response = await client.get("/v1/alerts?origin=zz", headers={**desk.headers, **PURPOSE})
    problem = assert_problem(response, 400, "invalid-parameter")
    assert "zz" not in str(problem.get("errors"))
