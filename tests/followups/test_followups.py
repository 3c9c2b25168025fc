"""Follow-ups end to end: storage sealed, bound texts, retention, refused input, refused callers,
and their audit records."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select, update
from sqlmodel import SQLModel

from exchange_api.followups.schemas import FollowUpList, FollowUpRead
from exchange_api.kit.clock import FrozenClock
from exchange_api.models.followups import FollowUp
from tests.alerts.builders import alert_body
from tests.alerts.http import Desk, assert_problem, open_desk, push
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry
from tests.conftest import Cli
from tests.followups.builders import (
    FOLLOWER_REFERENCE,
    SUMMARY,
    follow,
    followup_body,
    listed,
)

FOLLOWUPS = SQLModel.metadata.tables[FollowUp.__tablename__]
DUE = {"detected_on": "2020-01-10", "review_by": "2021-01-01"}


@pytest.fixture
async def police(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client)


def _rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [row._asdict() for row in connection.execute(select(FOLLOWUPS))]


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(FOLLOWUPS)) or 0)


async def test_the_database_never_holds_a_follow_up_text_in_plain(
    client: httpx.AsyncClient, police: Desk, engine: Engine, backend: str, database_url: str
) -> None:
    alert_id = await push(client, police, alert_body())
    await follow(client, police, alert_id)

    [row] = _rows(engine)
    assert row["kind"] == "seizure"
    assert row["arrests"] == 2
    stored = repr(row).encode()
    for text in (SUMMARY, FOLLOWER_REFERENCE, "1,150 kg BMK", "RTM-SEIZ"):
        assert text.encode() not in stored
        assert text.encode() not in row["sealed_summary"]
        assert text.encode() not in row["sealed_reference"]
    if backend == "sqlite":
        engine.dispose()
        raw = Path(database_url.removeprefix("sqlite:///")).read_bytes()  # noqa: ASYNC240
        assert SUMMARY.encode() not in raw
        assert FOLLOWER_REFERENCE.encode() not in raw


async def test_a_text_moved_to_another_follow_up_fails_closed(
    client: httpx.AsyncClient, police: Desk, engine: Engine
) -> None:
    alert_id = await push(client, police, alert_body())
    first = await follow(client, police, alert_id)
    second = await follow(client, police, alert_id, summary="Second look: nothing more found.")
    with engine.begin() as connection:
        sealed = connection.scalar(
            select(FOLLOWUPS.c.sealed_summary).where(FOLLOWUPS.c.id == uuid.UUID(first))
        )
        connection.execute(
            update(FOLLOWUPS)
            .where(FOLLOWUPS.c.id == uuid.UUID(second))
            .values(sealed_summary=sealed)
        )

    response = await client.get(f"/v1/alerts/{alert_id}/followups", headers=police.reading())
    assert_problem(response, 500, "integrity-failure")
    assert SUMMARY not in response.text
    assert "BMK" not in response.text


async def test_retention_shreds_follow_up_texts_and_keeps_their_routing_facts(
    app: FastAPI, client: httpx.AsyncClient, police: Desk, engine: Engine, cli: Cli
) -> None:
    due = await push(client, police, alert_body(**DUE))
    followup_id = await follow(client, police, due, occurred_on="2020-02-01")

    assert cli("retention", "run").returncode == 0

    listing = await client.get(f"/v1/alerts/{due}/followups", headers=police.reading())
    assert_problem(listing, 410, "alert-shredded")
    one = await client.get(f"/v1/alerts/{due}/followups/{followup_id}", headers=police.reading())
    assert_problem(one, 410, "alert-shredded")
    added = await client.post(
        f"/v1/alerts/{due}/followups", json=followup_body(), headers=police.headers
    )
    assert_problem(added, 410, "alert-shredded")
    [row] = _rows(engine)
    assert (row["sealed_summary"], row["sealed_reference"]) == (None, None)
    assert (row["kind"], row["occurred_on"].isoformat(), row["arrests"]) == (
        "seizure",
        "2020-02-01",
        2,
    )
    assert row["seized"] == [
        {
            "cas": "103-79-7",
            "name": None,
            "quantity": 1150.0,
            "unit": "kg",
            "concentration_pct": None,
        }
    ]
    history = await client.get(f"/v1/alerts/{due}/history", headers=police.headers)
    assert [item["event"] for item in history.json()["items"]] == ["created", "followup"]
    found = await client.get("/v1/alerts", params={"stage": "seizure"}, headers=police.headers)
    assert [item["id"] for item in found.json()["items"]] == [due]


async def test_corrections_name_a_follow_up_of_the_same_alert_by_the_same_agency(
    registry: Registry, client: httpx.AsyncClient, police: Desk, engine: Engine
) -> None:
    customs = await open_desk(registry, client, "customs", "BE")
    alert_id = await push(client, police, alert_body())
    other_alert = await push(client, police, alert_body())
    original = await follow(client, police, alert_id, arrests=3)
    theirs = await follow(client, customs, alert_id)
    elsewhere = await follow(client, police, other_alert)
    before = _count(engine)

    for corrects, message in (
        (elsewhere, "no such follow-up of this alert"),
        (str(uuid.uuid4()), "no such follow-up of this alert"),
        (theirs, "only the agency that wrote a follow-up may correct it"),
    ):
        response = await client.post(
            f"/v1/alerts/{alert_id}/followups",
            json=followup_body(corrects=corrects),
            headers=police.headers,
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"] == [{"loc": ["body", "corrects"], "msg": message}]
    assert _count(engine) == before

    correction = await follow(client, police, alert_id, arrests=2, corrects=original)
    items = {item["id"]: item for item in await listed(client, police, alert_id)}
    assert items[correction]["corrects"] == original
    assert items[original]["arrests"] == 3  # immutable: the original stands as it was


_SECRET = "Sgt. Jansen's informant said so"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"kind": "confiscation"}, ["body", "kind"]),
        ({"arrests": -1}, ["body", "arrests"]),
        ({"summary": ""}, ["body", "summary"]),
        ({"summary": "   "}, ["body", "summary"]),
        ({"summary": f"{_SECRET}\x00"}, ["body", "summary"]),
        ({"reference": f"{_SECRET}\x00"}, ["body", "reference"]),
        ({"reporting_agency": _SECRET}, ["body", "reporting_agency"]),
        (
            {"seized": [{"cas": "103-79-8", "quantity": 1, "unit": "kg"}]},
            ["body", "seized", 0, "cas"],
        ),
        ({"distribution": {"scope": "agencies", "agencies": []}}, ["body", "distribution"]),
        (
            {"distribution": {"scope": "agencies", "agencies": [str(uuid.uuid4())]}},
            ["body", "distribution", "agencies", 0],
        ),
    ],
)
async def test_bad_input_is_refused_with_its_place_and_nothing_is_written(
    client: httpx.AsyncClient, police: Desk, engine: Engine, change: dict[str, Any], loc: list[Any]
) -> None:
    alert_id = await push(client, police, alert_body())
    body = followup_body(**change)

    response = await client.post(
        f"/v1/alerts/{alert_id}/followups", json=body, headers=police.headers
    )

    problem = assert_problem(response, 422, "validation-error")
    assert loc in [error["loc"] for error in problem["errors"]], problem
    assert _SECRET not in response.text
    assert "confiscation" not in response.text
    assert _count(engine) == 0


async def test_occurred_on_may_not_be_after_today_by_the_apps_clock(
    app: FastAPI, client: httpx.AsyncClient, police: Desk, engine: Engine
) -> None:
    alert_id = await push(client, police, alert_body())
    app.state.clock = FrozenClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))

    tomorrow_everywhere = await client.post(
        f"/v1/alerts/{alert_id}/followups",
        json=followup_body(occurred_on="2026-11-27"),
        headers=police.headers,
    )
    problem = assert_problem(tomorrow_everywhere, 422, "validation-error")
    assert problem["errors"] == [
        {"loc": ["body", "occurred_on"], "msg": "must not be in the future"}
    ]
    assert _count(engine) == 0
    # At 12:00 UTC it is already the 26th at UTC+14 (Kiribati): that day is not the future.
    await follow(client, police, alert_id, occurred_on="2026-11-26")


async def test_both_endpoints_refuse_no_token_wrong_scope_and_invisible_alerts(
    registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    reader = await open_desk(registry, client, "customs", "BE", scopes="alerts:read")
    writer = await open_desk(registry, client, "customs", "BE", scopes="alerts:write")
    outsider = await open_desk(registry, client, "customs", "BE")
    hidden = await push(
        client,
        police,
        alert_body(distribution={"scope": "kinds", "kinds": ["prosecution"]}),
    )
    path = f"/v1/alerts/{hidden}/followups"
    body = followup_body()

    assert (await client.post(path, json=body)).status_code == 401
    assert (await client.get(path, headers={"X-Purpose": "case"})).status_code == 401
    assert_problem(
        await client.post(path, json=body, headers=reader.headers), 403, "insufficient-scope"
    )
    assert_problem(await client.get(path, headers=writer.reading()), 403, "insufficient-scope")
    assert_problem(await client.post(path, json=body, headers=outsider.headers), 404, "not-found")
    assert_problem(await client.get(path, headers=outsider.reading()), 404, "not-found")
    missing = await client.get(path.replace(hidden, str(uuid.uuid4())), headers=police.reading())
    assert_problem(missing, 404, "not-found")
    no_purpose = await client.get(path, headers=police.headers)
    assert_problem(no_purpose, 400, "purpose-required")


async def test_follow_ups_are_audited_and_a_refused_look_names_the_alert(
    app: FastAPI, registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    regulator = await open_desk(registry, client, "regulatory", "DE")
    outsider = await open_desk(registry, client, "customs", "BE")
    alert_id = await push(client, police, alert_body())
    hidden = await push(
        client, police, alert_body(distribution={"scope": "kinds", "kinds": ["prosecution"]})
    )
    followup_id = await follow(client, police, alert_id)
    await listed(client, regulator, alert_id)
    await listed(client, police, alert_id)
    await client.get(f"/v1/alerts/{hidden}/followups", headers=outsider.reading())

    entries = stored_entries(app)
    [created] = [e for e in entries if e["action"] == "followup.create"]
    assert created["resource_ids"] == [followup_id, alert_id]
    assert created["agency"] == str(police.agency.id)
    reads = [e for e in entries if e["action"] == "followup.read"]
    assert [(e["agency"], e["resource_ids"], e["result_count"], e["fields"]) for e in reads] == [
        (str(regulator.agency.id), [alert_id, followup_id], 1, []),
        (str(police.agency.id), [alert_id, followup_id], 1, ["summary", "reference"]),
    ]
    assert {e["purpose"] for e in reads} == {"case NL-2026-00123"}
    denied = [
        e for e in entries if e["action"] == "access.denied" and e["resource_ids"] == [hidden]
    ]
    assert len(denied) == 1
    assert SUMMARY not in repr(entries)


async def test_follow_ups_written_from_stored_values_are_what_the_declared_models_write(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    """Lists and reads are written from the stored follow-ups as plain values; validating an
    answer from the wire and writing the declared model gives the same bytes, for a reader of
    every text and for a regulator, from whom the texts are withheld and absent."""
    police = await open_desk(registry, client)
    customs = await open_desk(registry, client, "customs", "BE")
    regulator = await open_desk(registry, client, "regulatory")
    alert_id = await push(client, police, alert_body())
    first = await follow(client, police, alert_id)
    await follow(
        client,
        police,
        alert_id,
        kind="note",
        corrects=first,
        seized=[{"name": "an unlisted designer precursor", "quantity": 3, "unit": "l"}],
        arrests=None,
        reference=None,
        handling={
            "code": "H3",
            "restrictions": "Ask first.",
            "source_reliability": "B",
            "information_reliability": "2",
            "tlp": "amber+strict",
        },
        distribution={"scope": "agencies", "agencies": [str(customs.agency.id)]},
    )
    for desk, sees in ((police, 2), (customs, 2), (regulator, 1)):
        listed = await client.get(f"/v1/alerts/{alert_id}/followups", headers=desk.reading())
        assert listed.status_code == 200, listed.text
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a value of the wrong type would warn when written
            page = FollowUpList.model_validate_json(listed.content)
            written = page.model_dump_json(by_alias=True, exclude_unset=True).encode()
        assert written == listed.content
        assert len(page.items) == sees
        for item in page.items:
            one = await client.get(
                f"/v1/alerts/{alert_id}/followups/{item.id}", headers=desk.reading()
            )
            read = FollowUpRead.model_validate_json(one.content)
            assert read.model_dump_json(by_alias=True, exclude_unset=True).encode() == one.content
            assert read == item
        for item in page.items:
            assert item.model_fields_set == set(FollowUpRead.model_fields) - set(item.withheld)
    assert page.items[0].withheld == ["summary", "reference"]
