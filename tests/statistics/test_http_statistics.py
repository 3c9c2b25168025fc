"""Statistics over HTTP on both databases: what each scope counts, what the network scope
leaves out (and what it cannot stop), quantities by unit family, the early warning, the audit
record and the refusals."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.alerts.builders import minimal_body
from tests.alerts.http import Desk, assert_problem, open_desk
from tests.auth_helpers import Registry

RECENT = (date.today() - timedelta(days=10)).isoformat()


async def _push_many(
    client: httpx.AsyncClient, desk: Desk, count: int, **overrides: Any
) -> list[str]:
    body = minimal_body(**overrides)
    response = await client.post(
        "/v1/alerts/batch", json={"alerts": [body] * count}, headers=desk.headers
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all("id" in result for result in results), results
    return [result["id"] for result in results]


async def _stats(
    client: httpx.AsyncClient, desk: Desk, path: str = "alerts", **params: Any
) -> dict[str, Any]:
    response = await client.get(f"/v1/statistics/{path}", params=params, headers=desk.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cells(answer: dict[str, Any]) -> dict[str, int]:
    return {item["key"]: item["alerts"] for item in answer["items"]}


def _hidden_from_everyone_but(desk: Desk) -> dict[str, Any]:
    return {"scope": "agencies", "agencies": [str(desk.agency.id)]}


# --- network scope: the cell rule -----------------------------------------------------------


async def test_network_cells_need_five_alerts_from_two_agencies(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    nl = await open_desk(registry, client, "customs", "NL")
    be = await open_desk(registry, client, "law_enforcement", "BE")
    analyst = await open_desk(registry, client, "law_enforcement", "DE")
    # None of these is visible to the analyst: the network scope still counts their facts.
    hidden_nl = {"distribution": _hidden_from_everyone_but(nl)}
    hidden_be = {"distribution": _hidden_from_everyone_but(be)}
    await _push_many(client, nl, 3, route={"origin": "CN"}, **hidden_nl)
    await _push_many(client, be, 2, route={"origin": "CN"}, **hidden_be)  # 5 from 2: shown
    await _push_many(client, nl, 4, route={"origin": "IN"}, **hidden_nl)  # 4: left out
    await _push_many(client, nl, 6, route={"origin": "TR"}, **hidden_nl)  # one agency: left out
    answer = await _stats(client, analyst, group_by="origin", scope="network")
    assert answer == {
        "scope": "network",
        "group_by": "origin",
        "items": [{"key": "CN", "alerts": 5, "quantity_kg": None, "quantity_l": None}],
        "suppressed": 2,
    }
    visible = await _stats(client, analyst, group_by="origin")
    assert visible["items"] == []
    assert visible["suppressed"] == 0


async def test_a_cell_one_alert_short_is_left_out_whatever_the_grouping(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    nl = await open_desk(registry, client, "customs", "NL")
    be = await open_desk(registry, client, "customs", "BE")
    analyst = await open_desk(registry, client, "law_enforcement", "DE")
    await _push_many(client, nl, 2, incident_type="seizure", route={"origin": "CN"})
    await _push_many(client, be, 2, incident_type="seizure", route={"origin": "CN"})
    for group_by in ("origin", "incident_type", "month", "substance", "reporting_country"):
        answer = await _stats(client, analyst, group_by=group_by, scope="network")
        assert all(item["alerts"] >= 5 for item in answer["items"]), group_by
        assert answer["items"] == [] or group_by == "reporting_country", answer


async def test_a_single_agency_is_never_published_even_when_asked_for_by_name(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    nl = await open_desk(registry, client, "customs", "NL")
    be = await open_desk(registry, client, "customs", "BE")
    analyst = await open_desk(registry, client, "law_enforcement", "DE")
    await _push_many(client, nl, 10, route={"origin": "CN"})
    await _push_many(client, be, 10, route={"origin": "CN"})
    assert _cells(await _stats(client, analyst, group_by="origin", scope="network")) == {"CN": 20}
    narrowed = await _stats(
        client,
        analyst,
        group_by="origin",
        scope="network",
        reporting_agency=str(nl.agency.id),
    )
    assert narrowed["items"] == []
    assert narrowed["suppressed"] == 1


async def test_network_dates_must_bound_whole_months(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    # Narrowing the window a day at a time would isolate one alert's detection date.
    analyst = await open_desk(registry, client)
    for params in (
        {"detected_after": "2026-10-02"},
        {"detected_before": "2026-10-30"},
        {"detected_after": "2026-10-01", "detected_before": "2026-10-15"},
    ):
        response = await client.get(
            "/v1/statistics/alerts",
            params={"group_by": "origin", "scope": "network", **params},
            headers=analyst.headers,
        )
        assert_problem(response, 400, "statistics-window")
    whole = {"detected_after": "2026-10-01", "detected_before": "2026-10-31"}
    await _stats(client, analyst, group_by="origin", scope="network", **whole)
    await _stats(client, analyst, group_by="origin", detected_after="2026-10-02")  # visible


async def test_windows_open_to_the_ends_of_the_calendar_are_whole_months(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    """``9999-12-31`` and ``0001-01-01`` bound whole months (a client's way of writing an open
    end); they were a 500, the day after the last one being asked of the calendar."""
    desk = await open_desk(registry, client)
    await _push_many(client, desk, 2)
    ends = {"detected_after": "0001-01-01", "detected_before": "9999-12-31"}
    for scope in ("visible", "network"):
        for group_by in ("substance", "month", "origin"):
            await _stats(client, desk, group_by=group_by, scope=scope, **ends)
    counted = await _stats(client, desk, group_by="substance", **ends)
    assert sum(_cells(counted).values()) == 2
    await _stats(client, desk, "penal-chain", group_by="origin", **ends)


async def test_differencing_two_published_cells_is_not_prevented(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    """The documented limit (docs/contract.md): two queries whose cells both pass can differ by
    one alert. This test pins that the docs describe the behaviour as it is."""
    nl = await open_desk(registry, client, "customs", "NL")
    be = await open_desk(registry, client, "customs", "BE")
    analyst = await open_desk(registry, client, "law_enforcement", "DE")
    await _push_many(client, nl, 3, route={"origin": "CN"}, incident_type="seizure")
    await _push_many(client, be, 3, route={"origin": "CN"}, incident_type="seizure")
    await _push_many(client, be, 1, route={"origin": "CN"}, incident_type="theft")
    everything = await _stats(client, analyst, group_by="origin", scope="network")
    seizures = await _stats(
        client, analyst, group_by="origin", scope="network", incident_type="seizure"
    )
    assert _cells(everything)["CN"] - _cells(seizures)["CN"] == 1


async def test_industry_gets_visible_statistics_only(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    industry = await open_desk(registry, client, "industry", "NL")
    response = await client.get(
        "/v1/statistics/alerts",
        params={"group_by": "origin", "scope": "network"},
        headers=industry.headers,
    )
    assert_problem(response, 403, "network-statistics-forbidden")
    response = await client.get("/v1/statistics/emerging", headers=industry.headers)
    assert_problem(response, 403, "network-statistics-forbidden")


# --- visible scope: exactly what the caller may see -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # own 1 + network 2 + addressed to customs 4 + addressed to this agency 8
        ("customs", 1 + 2 + 4 + 8),
        ("law_enforcement", 1 + 2 + 8),
        ("regulatory", 1 + 2 + 8),
        ("prosecution", 1 + 2 + 8),
        ("industry", 1),  # its own only, whatever the distribution says
    ],
)
async def test_visible_scope_counts_exactly_the_visible_alerts(
    registry: Registry, client: httpx.AsyncClient, kind: str, expected: int
) -> None:
    caller = await open_desk(registry, client, kind, "FR")
    other = await open_desk(registry, client, "customs", "NL")
    stranger = await open_desk(registry, client, "customs", "BE")
    await _push_many(client, caller, 1, route={"origin": "CN"})
    await _push_many(client, other, 2, route={"origin": "CN"})
    await _push_many(
        client,
        other,
        4,
        route={"origin": "CN"},
        distribution={"scope": "kinds", "kinds": ["customs"]},
    )
    addressed = {"scope": "agencies", "agencies": [str(caller.agency.id)]}
    await _push_many(client, other, 8, route={"origin": "CN"}, distribution=addressed)
    await _push_many(
        client, other, 16, route={"origin": "CN"}, distribution=_hidden_from_everyone_but(stranger)
    )
    for group_by in ("origin", "substance", "month", "status"):
        answer = await _stats(client, caller, group_by=group_by)
        assert sum(_cells(answer).values()) == expected, group_by
        assert answer["suppressed"] == 0


async def test_filters_narrow_and_quantities_add_up_by_unit_family(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    desk = await open_desk(registry, client, "customs", "NL")
    substances = [
        {"cas": "103-79-7", "quantity": 1.5, "unit": "t"},
        {"cas": "103-79-7", "quantity": 500, "unit": "g"},
        {"cas": "108-24-7", "quantity": 200, "unit": "l"},
        {"cas": "108-24-7", "quantity": 2, "unit": "m3"},
        {"name": "Ecstasy tablets", "quantity": 5000, "unit": "pcs"},
    ]
    await _push_many(client, desk, 2, substances=substances, route={"origin": "cn"})
    await _push_many(client, desk, 1, substances=[{"cas": "103-79-7"}], route={"origin": "IN"})
    by_substance = await _stats(client, desk, group_by="substance")
    assert by_substance["items"] == [
        {"key": "103-79-7", "alerts": 3, "quantity_kg": 3001.0, "quantity_l": None},
        {"key": "108-24-7", "alerts": 2, "quantity_kg": None, "quantity_l": 4400.0},
        {"key": "name:ecstasy tablets", "alerts": 2, "quantity_kg": None, "quantity_l": None},
    ]
    by_origin = await _stats(client, desk, group_by="origin", substance="108-24-7")
    assert by_origin["items"] == [
        {"key": "CN", "alerts": 2, "quantity_kg": None, "quantity_l": 4400.0}
    ]
    narrowed = await _stats(client, desk, group_by="substance", origin="in")
    assert _cells(narrowed) == {"103-79-7": 1}
    by_name = await _stats(client, desk, group_by="origin", substance_name="ECSTASY  tablets")
    assert _cells(by_name) == {"CN": 2}


async def test_every_grouping_answers(registry: Registry, client: httpx.AsyncClient) -> None:
    desk = await open_desk(registry, client, "customs", "NL")
    await _push_many(
        client,
        desk,
        1,
        detected_on="2026-10-01",
        route={"origin": "CN", "transit": ["TR"], "destination": "NL"},
    )
    expected = {
        "substance": "4433-77-6",
        "origin": "CN",
        "transit": "TR",
        "destination": "NL",
        "incident_type": "suspicious_order",
        "status": "open",
        "month": "2026-10",
        "reporting_country": "NL",
    }
    for group_by, key in expected.items():
        assert _cells(await _stats(client, desk, group_by=group_by)) == {key: 1}, group_by
    assert _cells(await _stats(client, desk, group_by="country")) == {"CN": 1, "TR": 1, "NL": 1}


# --- penal chain ----------------------------------------------------------------------------


async def test_the_funnel_counts_the_follow_ups_each_caller_may_see(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    """Per cell, the alerts that reached each stage, over the follow-ups the caller may see: a
    follow-up shown only to named agencies is counted for them, never for the others."""
    customs = await open_desk(registry, client, "customs", "NL")
    police = await open_desk(registry, client, "law_enforcement", "NL")
    prosecution = await open_desk(registry, client, "prosecution", "NL")
    alerts = await _push_many(client, customs, 2, route={"origin": "CN"})
    today = dt.date.today().isoformat()
    handling = {
        "code": "H2",
        "source_reliability": "B",
        "information_reliability": "2",
        "tlp": "amber",
    }

    async def follow(alert: str, kind: str, **extra: object) -> None:
        body = {"kind": kind, "occurred_on": today, "summary": "s", "handling": handling, **extra}
        response = await client.post(
            f"/v1/alerts/{alert}/followups", json=body, headers=police.headers
        )
        assert response.status_code == 201, response.text

    await follow(alerts[0], "seizure")
    await follow(alerts[1], "seizure")
    narrowed = {"scope": "agencies", "agencies": [str(prosecution.agency.id)]}
    await follow(alerts[0], "arrest", distribution=narrowed)

    def funnel(answer: dict[str, Any]) -> dict[str, object]:
        return {cell["key"]: (cell["alerts"], cell["stages"]) for cell in answer["items"]}

    for desk, stages in (
        (customs, {"arrest": 1, "seizure": 2}),  # the reporting agency sees every follow-up
        (prosecution, {"arrest": 1, "seizure": 2}),  # named in the arrest's distribution
        (await open_desk(registry, client, "customs", "BE"), {"seizure": 2}),
    ):
        answer = await _stats(client, desk, "penal-chain", group_by="origin")
        assert funnel(answer) == {"CN": (2, stages)}


# --- early warning --------------------------------------------------------------------------


async def test_an_uncatalogued_name_recurring_across_agencies_is_reported(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    nl = await open_desk(registry, client, "customs", "NL")
    nl_police = await open_desk(registry, client, "law_enforcement", "NL")
    be = await open_desk(registry, client, "customs", "BE")
    lone = await open_desk(registry, client, "customs", "DE")
    new = [{"name": "Methyl 3-(3,4-methylenedioxyphenyl)-2-methylglycidate isomer X"}]
    for desk in (nl, nl_police, be):
        await _push_many(client, desk, 1, substances=new, detected_on=RECENT)
    # Three alerts, but from one agency: never reported.
    await _push_many(
        client, lone, 3, substances=[{"name": "Lone agency's compound"}], detected_on=RECENT
    )
    # A catalogued name is not emerging, however often it recurs.
    for desk in (nl, be, lone):
        await _push_many(client, desk, 1, substances=[{"name": "DEPAPD"}], detected_on=RECENT)
    # Too old for the window.
    for desk in (nl, be, lone):
        await _push_many(
            client, desk, 1, substances=[{"name": "Old compound"}], detected_on="2020-01-01"
        )
    answer = await _stats(client, lone, "emerging")
    assert answer == {
        "items": [
            {
                "cas": None,
                "name": "methyl 3 3 4 methylenedioxyphenyl 2 methylglycidate isomer x",
                "alerts": 3,
                "agencies": 3,
                "countries": ["BE", "NL"],
                "first_seen": RECENT,
                "last_seen": RECENT,
            }
        ]
    }
    raised = await _stats(client, lone, "emerging", min_agencies=4)
    assert raised["items"] == []


async def test_an_unlisted_cas_number_is_emerging_too(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    desks = [await open_desk(registry, client, "customs", c) for c in ("NL", "BE", "FR")]
    for desk in desks:
        await _push_many(client, desk, 1, substances=[{"cas": "50-00-0"}], detected_on=RECENT)
    [item] = (await _stats(client, desks[0], "emerging"))["items"]
    assert (item["cas"], item["name"], item["countries"]) == ("50-00-0", None, ["BE", "FR", "NL"])


# --- refusals and audit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "slug"),
    [
        ("alerts", {}, "invalid-parameter"),
        ("alerts", {"group_by": "colour"}, "invalid-parameter"),
        ("alerts", {"group_by": "origin", "scope": "world"}, "invalid-parameter"),
        ("alerts", {"group_by": "origin", "party": "x"}, "unknown-query-parameter"),
        ("alerts", {"group_by": "origin", "origin": "ZZ"}, "invalid-parameter"),
        ("penal-chain", {"group_by": "origin", "limit": "5"}, "unknown-query-parameter"),
        ("emerging", {"min_agencies": "1"}, "threshold-too-low"),
        ("emerging", {"min_alerts": "2"}, "threshold-too-low"),
        ("emerging", {"days": "0"}, "invalid-parameter"),
        ("emerging", {"group_by": "origin"}, "unknown-query-parameter"),
    ],
)
async def test_bad_parameters_are_400_problems(
    registry: Registry, client: httpx.AsyncClient, path: str, params: dict[str, str], slug: str
) -> None:
    desk = await open_desk(registry, client)
    response = await client.get(f"/v1/statistics/{path}", params=params, headers=desk.headers)
    assert_problem(response, 400, slug)


async def test_statistics_reads_are_audited_with_the_query_and_no_ids(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    nl = await open_desk(registry, client, "customs", "NL")
    be = await open_desk(registry, client, "customs", "BE")
    auditor = await open_desk(registry, client, scopes="audit:read")
    await _push_many(client, nl, 3, route={"origin": "CN"})
    await _push_many(client, be, 3, route={"origin": "CN"})
    await _stats(client, nl, group_by="origin", scope="network", origin="cn")
    response = await client.get(
        "/v1/audit/events",
        params={"action": "statistics.read", "agency": str(nl.agency.id)},
        headers=auditor.headers,
    )
    assert response.status_code == 200, response.text
    [entry] = response.json()["items"]
    assert entry["resource_ids"] == []
    assert entry["result_count"] == 1
    assert set(entry["fields"]) == {
        "report=alerts",
        "scope=network",
        "group_by=origin",
        "origin=CN",
    }
