"""Retention end to end: ``exchange-api retention run`` shreds alerts past their review date,
through the real app and the real command, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select, update
from sqlmodel import SQLModel

from exchange_api.alerts import changes
from exchange_api.alerts.retention import SERVICE_ACTOR, retention_pass
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.operator import OperatorRecorder, operator_name
from exchange_api.models.alerts import Alert, AlertTag, IdempotencyKey
from exchange_api.models.types import utc_now
from tests.alerts.builders import SENSITIVE_VALUES, alert_body
from tests.alerts.http import Desk, assert_problem, open_desk, push
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry, Serving
from tests.conftest import Cli

ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
TAGS = SQLModel.metadata.tables[AlertTag.__tablename__]
KEYS = SQLModel.metadata.tables[IdempotencyKey.__tablename__]
SHREDDABLE = [ALERTS.c.wrapped_dek, *(c for c in ALERTS.c if c.name.startswith("sealed_"))]
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
# Detected in 2020, to be reviewed by the start of 2021: long due.
DUE = {"detected_on": "2020-01-10", "review_by": "2021-01-01"}


@pytest.fixture
async def police(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client)


def _row(engine: Engine, alert_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(select(ALERTS).where(ALERTS.c.id == uuid.UUID(alert_id))).one()
        tags = connection.scalar(
            select(func.count()).select_from(TAGS).where(TAGS.c.alert_id == uuid.UUID(alert_id))
        )
    return {**row._asdict(), "tags": tags}


async def _links(client: httpx.AsyncClient, desk: Desk, alert_id: str) -> list[str]:
    response = await client.get(f"/v1/alerts/{alert_id}/links", headers=desk.reading())
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_an_alert_past_its_review_date_keeps_its_routing_facts_and_loses_the_rest(
    app: FastAPI, client: httpx.AsyncClient, police: Desk, cli: Cli, engine: Engine
) -> None:
    due = await push(client, police, alert_body(**DUE))
    kept = await push(client, police, alert_body())  # same container and parties: linked
    assert await _links(client, police, kept) == [due]
    assert _row(engine, due)["tags"] > 0

    done = cli("retention", "run")

    today = utc_now().date().isoformat()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "shredded": 1,
        "before": today,
        "idempotency_keys_forgotten": 0,
    }
    row = _row(engine, due)
    assert [row[column.name] for column in SHREDDABLE] == [None] * len(SHREDDABLE)
    assert row["shredded_at"] is not None
    assert row["tags"] == 0
    assert not any(value.encode() in repr(row).encode() for value in SENSITIVE_VALUES)
    assert _row(engine, kept)["wrapped_dek"] is not None

    read = await client.get(f"/v1/alerts/{due}", headers=police.reading())
    assert assert_problem(read, 410, "alert-shredded")["shredded_on"] == today
    linked = await client.get(f"/v1/alerts/{due}/links", headers=police.reading())
    assert_problem(linked, 410, "alert-shredded")
    patched = await client.patch(
        f"/v1/alerts/{due}",
        json={"status": "closed_confirmed"},
        headers={**police.headers, **MERGE_PATCH, "If-Match": '"v1"'},
    )
    assert_problem(patched, 410, "alert-shredded")
    history = await client.get(f"/v1/alerts/{due}/history", headers=police.headers)
    assert history.status_code == 200, history.text
    assert [item.get("officer") for item in history.json()["items"]] == [None]

    assert await _links(client, police, kept) == []
    found = await client.get("/v1/alerts", params={"substance": "103-79-7"}, headers=police.headers)
    summaries = {item["id"]: item for item in found.json()["items"]}
    assert set(summaries) == {due, kept}
    assert summaries[due]["route"]["origin"] == "CN"
    assert (await client.get(f"/v1/alerts/{kept}", headers=police.reading())).status_code == 200

    entries = stored_entries(app)
    shreds = [entry for entry in entries if entry["action"] == "alert.shred"]
    assert [(e["actor"], e["resource_ids"], e["result_count"]) for e in shreds] == [
        (operator_name(), [due], 1)
    ]
    # The 410 attempts (read, links, change) are on record like refusals, naming the alert.
    attempts = [e for e in entries if e["action"] == "access.denied" and e["resource_ids"] == [due]]
    assert len(attempts) == 3
    assert json.loads(cli("retention", "run").stdout)["shredded"] == 0


async def test_the_service_shreds_what_is_due_at_start_and_records_it_as_itself(
    app: FastAPI, client: httpx.AsyncClient, police: Desk, serving: Serving
) -> None:
    due = await push(client, police, alert_body(**DUE))
    assert (await client.get(f"/v1/alerts/{due}", headers=police.reading())).status_code == 200

    async with serving(retention_interval=3600) as (restarted, _registry):
        for _ in range(200):
            response = await restarted.get(f"/v1/alerts/{due}", headers=police.reading())
            if response.status_code != 200:
                break
            await asyncio.sleep(0.025)

    assert_problem(response, 410, "alert-shredded")
    shreds = [entry for entry in stored_entries(app) if entry["action"] == "alert.shred"]
    assert [(entry["actor"], entry["resource_ids"]) for entry in shreds] == [(SERVICE_ACTOR, [due])]


async def test_an_alert_the_caller_may_not_see_stays_404_when_shredded(
    registry: Registry, client: httpx.AsyncClient, police: Desk, cli: Cli
) -> None:
    industry = await open_desk(registry, client, "industry")
    hidden = await push(client, police, alert_body(**DUE))
    assert cli("retention", "run").returncode == 0

    response = await client.get(f"/v1/alerts/{hidden}", headers=industry.reading())

    assert_problem(response, 404, "not-found")


async def test_a_review_date_moved_later_in_time_saves_the_alert(
    client: httpx.AsyncClient, police: Desk, cli: Cli
) -> None:
    alert_id = await push(client, police, alert_body(**DUE))
    moved = await client.patch(
        f"/v1/alerts/{alert_id}",
        json={"review_by": "2099-01-01"},
        headers={**police.headers, **MERGE_PATCH, "If-Match": '"v1"'},
    )
    assert moved.status_code == 200, moved.text

    assert json.loads(cli("retention", "run").stdout)["shredded"] == 0
    assert (await client.get(f"/v1/alerts/{alert_id}", headers=police.reading())).status_code == 200


async def test_an_idempotency_key_is_kept_for_its_days_then_free_and_forgotten(
    client: httpx.AsyncClient, police: Desk, cli: Cli, engine: Engine
) -> None:
    keyed = {**police.headers, "Idempotency-Key": "push-0001"}
    first = await client.post("/v1/alerts", json=alert_body(), headers=keyed)
    other_body = alert_body(status="backtracking")
    assert (await client.post("/v1/alerts", json=other_body, headers=keyed)).status_code == 409

    _age_keys(engine, days=8)  # EXCHANGE_IDEMPOTENCY_KEY_DAYS is 7
    reused = await client.post("/v1/alerts", json=other_body, headers=keyed)
    replayed = await client.post("/v1/alerts", json=other_body, headers=keyed)

    assert reused.status_code == 201, reused.text
    assert "Idempotent-Replayed" not in reused.headers
    assert reused.json()["id"] != first.json()["id"]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == reused.json()["id"]
    assert json.loads(cli("retention", "run").stdout)["idempotency_keys_forgotten"] == 0
    _age_keys(engine, days=8)
    assert json.loads(cli("retention", "run").stdout)["idempotency_keys_forgotten"] == 1
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(KEYS)) == 0


def _age_keys(engine: Engine, *, days: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(KEYS).values(created_at=utc_now() - timedelta(days=days)))


@pytest.mark.postgres_only
async def test_a_change_that_read_the_alert_before_it_was_shredded_is_410_not_saved(
    app: FastAPI,
    client: httpx.AsyncClient,
    police: Desk,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL only: SQLite's writers take turns, so retention cannot commit inside a PATCH."""
    due = await push(client, police, alert_body(**DUE))
    merge = changes.apply_merge_patch

    def shred_meanwhile(target: Any, patch: Any) -> Any:
        # The PATCH has read and decrypted the alert; retention commits before it writes.
        record = OperatorRecorder(app.state.audit_log).batches(AuditAction.ALERT_SHRED)
        retention_pass(
            app.state.session_factory,
            today=utc_now().date(),
            record=record,
            idempotency_kept=timedelta(days=7),
        )
        return merge(target, patch)

    monkeypatch.setattr(changes, "apply_merge_patch", shred_meanwhile)

    patched = await client.patch(
        f"/v1/alerts/{due}",
        json={"review_by": "2099-01-01"},
        headers={**police.headers, **MERGE_PATCH, "If-Match": '"v1"'},
    )

    assert_problem(patched, 410, "alert-shredded")
    row = _row(engine, due)
    assert (row["version"], row["review_by"].isoformat(), row["tags"]) == (1, "2021-01-01", 0)
    assert [row[column.name] for column in SHREDDABLE] == [None] * len(SHREDDABLE)


async def test_a_pass_asked_to_stop_shreds_nothing_more(
    app: FastAPI, client: httpx.AsyncClient, police: Desk
) -> None:
    due = await push(client, police, alert_body(**DUE))

    def run(stop: bool) -> int:
        return retention_pass(
            app.state.session_factory,
            today=utc_now().date(),
            record=OperatorRecorder(app.state.audit_log).batches(AuditAction.ALERT_SHRED),
            idempotency_kept=timedelta(days=7),
            stop=lambda: stop,
        ).shredded

    assert run(stop=True) == 0
    assert (await client.get(f"/v1/alerts/{due}", headers=police.reading())).status_code == 200
    assert run(stop=False) == 1
