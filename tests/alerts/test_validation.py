"""Bad input over HTTP: each check's failure is a 422 problem naming the offending place,
never repeating the value, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.alerts.builders import alert_body
from tests.alerts.http import Desk, assert_problem, open_desk
from tests.auth_helpers import Registry


def _with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """The example alert with the member at ``path`` set to ``value``."""
    body = alert_body()
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


CASES: list[tuple[str, dict[str, Any], list[Any], Any]] = [
    (
        "cas check digit",
        _with(("substances", 0, "cas"), "103-79-8"),
        ["body", "substances", 0, "cas"],
        "103-79-8",
    ),
    ("cas shape", _with(("substances", 0, "cas"), "P2P"), ["body", "substances", 0, "cas"], None),
    ("no substance", _with(("substances",), []), ["body", "substances"], None),
    (
        "negative quantity",
        _with(("substances", 0, "quantity"), -5),
        ["body", "substances", 0, "quantity"],
        None,
    ),
    (
        "unknown unit",
        _with(("substances", 0, "unit"), "barrels"),
        ["body", "substances", 0, "unit"],
        "barrels",
    ),
    (
        "quantity without unit",
        _with(("substances", 0), {"cas": "103-79-7", "quantity": 4}),
        ["body", "substances", 0],
        None,
    ),
    (
        "concentration over 100",
        _with(("substances", 0, "concentration_pct"), 120),
        ["body", "substances", 0, "concentration_pct"],
        None,
    ),
    ("unknown country", _with(("route", "origin"), "XQ"), ["body", "route", "origin"], None),
    (
        "three-letter country",
        _with(("route", "destination"), "nld"),
        ["body", "route", "destination"],
        "nld",
    ),
    (
        "transit country",
        _with(("route", "transit"), ["TR", "QQ"]),
        ["body", "route", "transit", 1],
        None,
    ),
    (
        "port country prefix",
        _with(("route", "port_of_loading"), "QQSHA"),
        ["body", "route", "port_of_loading"],
        "QQSHA",
    ),
    (
        "port characters",
        _with(("route", "port_of_discharge"), "NLRT1"),
        ["body", "route", "port_of_discharge"],
        "NLRT1",
    ),
    (
        "transport mode",
        _with(("route", "transport_mode"), "teleport"),
        ["body", "route", "transport_mode"],
        "teleport",
    ),
    (
        "container check digit",
        _with(("documents", 0, "number"), "CSQU3054384"),
        ["body", "documents", 0, "number"],
        "CSQU3054384",
    ),
    (
        "container shape",
        _with(("documents", 0, "number"), "CSQ 3054383"),
        ["body", "documents", 0, "number"],
        "CSQ 3054383",
    ),
    (
        "document kind",
        _with(("documents", 1, "kind"), "passport"),
        ["body", "documents", 1, "kind"],
        None,
    ),
    (
        "document number without content",
        _with(("documents", 1, "number"), "-/-"),
        ["body", "documents", 1, "number"],
        None,
    ),
    ("future detection", _with(("detected_on",), "2999-01-01"), ["body", "detected_on"], None),
    ("review before detection", _with(("review_by",), "2026-11-19"), ["body", "review_by"], None),
    ("incident type", _with(("incident_type",), "rumour"), ["body", "incident_type"], "rumour"),
    ("status", _with(("status",), "archived"), ["body", "status"], "archived"),
    (
        "party role",
        _with(("parties", 0, "role"), "smuggler"),
        ["body", "parties", 0, "role"],
        "smuggler",
    ),
    (
        "party country",
        _with(("parties", 0, "country"), "XQ"),
        ["body", "parties", 0, "country"],
        None,
    ),
    (
        "party name without content",
        _with(("parties", 0, "name"), "..."),
        ["body", "parties", 0, "name"],
        None,
    ),
    (
        "person category",
        _with(("persons", 0, "category"), "informant"),
        ["body", "persons", 0, "category"],
        "informant",
    ),
    (
        "person born in the future",
        _with(("persons", 0, "date_of_birth"), "2999-01-01"),
        ["body", "persons", 0, "date_of_birth"],
        None,
    ),
    ("H3 without restrictions", _with(("handling", "code"), "H3"), ["body", "handling"], None),
    (
        "restrictions without H3",
        _with(("handling", "restrictions"), "Do not call the forwarder"),
        ["body", "handling"],
        "Do not call the forwarder",
    ),
    ("TLP 1.0 label", _with(("handling", "tlp"), "white"), ["body", "handling", "tlp"], None),
    (
        "source reliability",
        _with(("handling", "source_reliability"), "E"),
        ["body", "handling", "source_reliability"],
        None,
    ),
    (
        "information reliability",
        _with(("handling", "information_reliability"), "5"),
        ["body", "handling", "information_reliability"],
        None,
    ),
    (
        "kinds without kinds",
        _with(("distribution",), {"scope": "kinds"}),
        ["body", "distribution"],
        None,
    ),
    (
        "industry in kinds",
        _with(("distribution",), {"scope": "kinds", "kinds": ["industry"]}),
        ["body", "distribution", "kinds"],
        None,
    ),
    (
        "unknown agency",
        _with(
            ("distribution",),
            {"scope": "agencies", "agencies": ["01a2228b-ca75-74c0-930d-4acfad7e28b4"]},
        ),
        ["body", "distribution", "agencies", 0],
        "01a2228b-ca75-74c0-930d-4acfad7e28b4",
    ),
    (
        "reporting agency",
        _with(("reporting_agency",), "01a2228b-ca75-74c0-930d-4acfad7e28b4"),
        ["body", "reporting_agency"],
        "01a2228b-ca75-74c0-930d-4acfad7e28b4",
    ),
    ("id", _with(("id",), "01a2228b-ca75-74c0-930d-4acfad7e28b4"), ["body", "id"], None),
    ("version", _with(("version",), 4), ["body", "version"], None),
    ("unknown nested field", _with(("route", "via"), "Suez"), ["body", "route", "via"], "Suez"),
    ("narrative too long", _with(("narrative",), "x" * 20001), ["body", "narrative"], "x" * 20001),
]


@pytest.fixture
async def police(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client)


@pytest.mark.parametrize(
    ("body", "loc", "secret"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_each_check_is_a_422_at_its_place_without_the_value(
    client: httpx.AsyncClient,
    police: Desk,
    body: dict[str, Any],
    loc: list[Any],
    secret: str | None,
) -> None:
    response = await client.post("/v1/alerts", json=body, headers=police.headers)
    problem = assert_problem(response, 422, "validation-error")
    assert loc in [issue["loc"] for issue in problem["errors"]], problem["errors"]
    if secret is not None:
        assert secret not in response.text
    for sensitive in (body.get("narrative"), body["parties"][0]["name"], body["contact"]):
        assert json.dumps(sensitive)[1:-1] not in response.text
    listed = await client.get("/v1/alerts", headers=police.headers)
    assert listed.json()["items"] == []


async def test_malformed_json_is_400(client: httpx.AsyncClient, police: Desk) -> None:
    response = await client.post(
        "/v1/alerts",
        content=b'{"incident_type": ',
        headers={**police.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-json")
