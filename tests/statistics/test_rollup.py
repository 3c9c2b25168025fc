"""The statistics rollup answers exactly as the alerts themselves, on both databases.

A randomized corpus (fixed seed: a failure replays) of a few hundred alerts from five agencies
of every kind, then changes that move an alert between cells (distribution narrowed or widened,
substances changed, detection date moved) and a retention pass that shreds some. Every query the
rollup answers is then asked again with a filter that changes nothing but sends it to the alerts
(every status listed: the rollup answers no status filter), for every caller and scope: the two
answers must be the same cells, counts and suppressions, quantities equal up to the order floats
were added in. The early warning, read from its own rollup of uncatalogued sightings, must
name the substances, counts, agencies, countries and dates that the alerts' substance rows give
for every window.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any, get_args

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from exchange_api.alerts.retention import retention_pass
from exchange_api.alerts.vocabulary import AlertStatus
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.operator import OperatorRecorder
from exchange_api.models.agencies import Agency
from exchange_api.models.alerts import Alert, AlertSubstance
from exchange_api.models.statistics import AlertRollup, UncataloguedSighting
from exchange_api.models.types import utc_now
from exchange_api.reference.catalogue import catalogue_keys
from tests.alerts.builders import minimal_body
from tests.alerts.http import Desk, open_desk
from tests.auth_helpers import Registry

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
EVERY_STATUS = list(get_args(AlertStatus))
SUBSTANCES = (
    {"cas": "103-79-7"},
    {"cas": "108-24-7"},
    {"cas": "4433-77-6"},
    {"name": "Blue powder"},
    # Uncatalogued (the early warning's): named two ways, and without a name.
    {"cas": "50-00-0", "name": "Formalin"},
    {"cas": "50-00-0", "name": "Aldehyde solution"},
    {"cas": "64-17-5"},
)
UNITS = ("kg", "t", "g", "l", "m3", "pcs")
EMERGING_FIELDS = ("cas", "name", "alerts", "agencies", "countries", "first_seen", "last_seen")
TODAY = date.today()


def _lines(rng: random.Random) -> list[dict[str, Any]]:
    lines = []
    for substance in rng.sample(SUBSTANCES, rng.choice((1, 1, 2, 3))):
        line = dict(substance)
        if rng.random() < 0.8:
            line.update(quantity=rng.randrange(1, 5000) / 4, unit=rng.choice(UNITS))
        lines.append(line)
    if rng.random() < 0.2:  # the same substance twice: one row, its quantities added
        lines.append({**lines[0], "quantity": 3, "unit": "kg"})
    return lines


def _distribution(rng: random.Random, desks: list[Desk]) -> dict[str, Any]:
    choice = rng.random()
    if choice < 0.5:
        return {"scope": "network"}
    if choice < 0.75:
        kinds = rng.sample(["customs", "law_enforcement", "regulatory", "prosecution"], 2)
        return {"scope": "kinds", "kinds": kinds}
    return {"scope": "agencies", "agencies": [str(rng.choice(desks).agency.id)]}


def _detected(rng: random.Random) -> str:
    return (TODAY - timedelta(days=rng.randrange(1, 200))).isoformat()


def _body(rng: random.Random, desks: list[Desk]) -> dict[str, Any]:
    return minimal_body(
        detected_on=_detected(rng),
        substances=_lines(rng),
        distribution=_distribution(rng, desks),
    )


def _patch(rng: random.Random, desks: list[Desk]) -> dict[str, Any]:
    change = rng.choice(("narrow", "widen", "substances", "detected_on", "both"))
    if change == "narrow":
        narrowed = {"scope": "agencies", "agencies": [str(desks[0].agency.id)]}
        return {"distribution": _replacing(narrowed)}
    if change == "widen":
        return {"distribution": _replacing({"scope": "network"})}
    if change == "substances":
        return {"substances": _lines(rng)}
    if change == "detected_on":
        return {"detected_on": _detected(rng)}
    return {"substances": _lines(rng), "distribution": _replacing(_distribution(rng, desks))}


def _replacing(distribution: dict[str, Any]) -> dict[str, Any]:
    """A merge patch's distribution replacing the alert's whole distribution."""
    return {"kinds": None, "agencies": None, **distribution}


async def _corpus(client: httpx.AsyncClient, desks: list[Desk], rng: random.Random) -> None:
    owned: list[tuple[Desk, str]] = []
    for desk in desks:
        bodies = [_body(rng, desks) for _ in range(50)]
        bodies += [  # due for retention: shredded below, still counted by their routing facts
            minimal_body(detected_on="2020-01-10", review_by="2021-01-01", substances=_lines(rng))
            for _ in range(4)
        ]
        response = await client.post(
            "/v1/alerts/batch", json={"alerts": bodies}, headers=desk.headers
        )
        assert response.status_code == 200, response.text
        owned += [(desk, item["id"]) for item in response.json()["results"][:50]]
        single = await client.post("/v1/alerts", json=_body(rng, desks), headers=desk.headers)
        assert single.status_code == 201, single.text
    versions: dict[str, int] = {}
    for desk, alert_id in rng.sample(owned, 60):
        version = versions.get(alert_id, 1)
        response = await client.patch(
            f"/v1/alerts/{alert_id}",
            json=_patch(rng, desks),
            headers={**desk.headers, **MERGE_PATCH, "If-Match": f'"v{version}"'},
        )
        assert response.status_code == 200, response.text
        versions[alert_id] = int(response.json()["version"])


def _shred_due(app: FastAPI, shredded: int = 20) -> None:
    outcome = retention_pass(
        app.state.session_factory,
        today=utc_now().date(),
        record=OperatorRecorder(app.state.audit_log).batches(AuditAction.ALERT_SHRED),
        idempotency_kept=timedelta(days=7),
    )
    assert outcome.shredded == shredded


async def _answer(client: httpx.AsyncClient, desk: Desk, params: dict[str, Any]) -> dict[str, Any]:
    response = await client.get("/v1/statistics/alerts", params=params, headers=desk.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _same(rolled: dict[str, Any], counted: dict[str, Any], where: str) -> None:
    assert rolled["suppressed"] == counted["suppressed"], where
    assert [(i["key"], i["alerts"]) for i in rolled["items"]] == [
        (i["key"], i["alerts"]) for i in counted["items"]
    ], where
    for mine, theirs in zip(rolled["items"], counted["items"], strict=True):
        for unit in ("quantity_kg", "quantity_l"):
            if theirs[unit] is None:
                assert mine[unit] is None, where
            else:
                assert math.isclose(mine[unit], theirs[unit], rel_tol=1e-9), where


def _windows() -> list[dict[str, str]]:
    first = (TODAY - timedelta(days=120)).replace(day=1)
    last = TODAY.replace(day=1) - timedelta(days=1)
    return [{}, {"detected_after": first.isoformat(), "detected_before": last.isoformat()}]


async def test_the_rollup_answers_as_the_alerts_do(
    app: FastAPI, registry: Registry, client: httpx.AsyncClient
) -> None:
    desks = [
        await open_desk(registry, client, kind, country)
        for kind, country in (
            ("customs", "NL"),
            ("law_enforcement", "BE"),
            ("regulatory", "DE"),
            ("customs", "ES"),
            ("industry", "FR"),
        )
    ]
    rng = random.Random(14)
    await _corpus(client, desks, rng)
    _shred_due(app)
    with app.state.session_factory() as session:  # rows moved out of are deleted, not kept at 0
        empty = select(func.count()).select_from(AlertRollup).where(col(AlertRollup.alerts) <= 0)
        assert session.execute(empty).scalar_one() == 0
    for desk in desks:
        scopes = ["visible"] if desk is desks[-1] else ["visible", "network"]
        for scope in scopes:
            for group_by in ("substance", "month"):
                variants = [
                    *_windows(),
                    {"reporting_agency": str(desks[1].agency.id)},
                ]
                if group_by == "substance":
                    variants.append({"substance": ["103-79-7", "108-24-7"]})
                for variant in variants:
                    params = {"scope": scope, "group_by": group_by, **variant}
                    rolled = await _answer(client, desk, params)
                    counted = await _answer(client, desk, {**params, "status": EVERY_STATUS})
                    _same(rolled, counted, f"{desk.agency.kind} {params}")
                    assert rolled["items"] or scope == "network" or variant, params


def _emerging_from_the_alerts(app: FastAPI, days: int) -> list[tuple[Any, ...]]:
    """What the early warning must answer over ``days``, counted from the substance rows (the
    window ends on the app clock's today, which is not ``TODAY`` if the run crossed midnight)."""
    since = app.state.clock.today() - timedelta(days=days)
    statement = (
        select(
            col(AlertSubstance.substance_key),
            col(AlertSubstance.name),
            col(Alert.detected_on),
            col(Alert.reporting_agency_id),
            col(Agency.country),
        )
        .join(Alert, col(Alert.id) == col(AlertSubstance.alert_id))
        .join(Agency, col(Agency.id) == col(Alert.reporting_agency_id))
        .where(col(Alert.detected_on) >= since)
    )
    seen: dict[str, list[tuple[Any, ...]]] = {}
    with app.state.session_factory() as session:
        for key, name, detected_on, agency, country in session.execute(statement):
            if key not in catalogue_keys():
                seen.setdefault(key, []).append((name, detected_on, agency, country))
    expected = []
    for key, rows in seen.items():
        agencies = {row[2] for row in rows}
        if len(rows) < 3 or len(agencies) < 2:
            continue
        names = [row[0] for row in rows if row[0] is not None]
        dates = [row[1] for row in rows]
        expected.append(
            (
                None if key.startswith("name:") else key,
                min(names) if names else None,
                len(rows),
                len(agencies),
                sorted({row[3] for row in rows}),
                min(dates).isoformat(),
                max(dates).isoformat(),
            )
        )
    return sorted(expected, key=lambda item: (-item[2], str(item)))


async def test_the_early_warning_answers_as_the_alerts_do(
    app: FastAPI, registry: Registry, client: httpx.AsyncClient
) -> None:
    desks = [
        await open_desk(registry, client, kind, country)
        for kind, country in (("customs", "NL"), ("law_enforcement", "BE"), ("regulatory", "DE"))
    ]
    await _corpus(client, desks, random.Random(17))
    _shred_due(app, shredded=12)
    with app.state.session_factory() as session:
        empty = select(func.count()).select_from(UncataloguedSighting)
        assert session.execute(empty.where(col(UncataloguedSighting.alerts) <= 0)).scalar_one() == 0
    for days in (7, 30, 90, 150, 3000):
        response = await client.get(
            "/v1/statistics/emerging", params={"days": days}, headers=desks[0].headers
        )
        assert response.status_code == 200, response.text
        answered = sorted(
            (tuple(i[field] for field in EMERGING_FIELDS) for i in response.json()["items"]),
            key=lambda item: (-item[2], str(item)),
        )
        expected = _emerging_from_the_alerts(app, days)
        assert answered == expected, days
        assert expected or days == 7, days  # the corpus makes the larger windows non-trivial
