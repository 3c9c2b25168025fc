"""The sequencer chains what requests put in the audit intake, without anyone reading the log."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from exchange_api.audit import AuditAction
from exchange_api.audit.appender import AuditEvent, AuditLog
from exchange_api.audit.chain import Outcome
from exchange_api.audit.sequencer import AuditSequencer
from exchange_api.config import Settings
from exchange_api.crypto import load_key_material
from exchange_api.db import create_db_engine, make_session_factory
from exchange_api.models.audit import AuditEntryRecord, AuditIntakeRecord
from tests.audit.processes import service_env, verify_with_cli


def event(request_id: str) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.ALERT_READ,
        outcome=Outcome.ALLOWED,
        actor="officer-1",
        client_id="client-1",
        agency=None,
        token_id=None,
        request_id=request_id,
        source_ip="192.0.2.1",
        resource_ids=(str(uuid.uuid4()),),
        result_count=1,
    )


@dataclass
class Store:
    """The database and the log without an app, so that no other sequencer runs."""

    engine: Engine
    factory: sessionmaker[Session]
    log: AuditLog


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    engine = create_db_engine(settings)
    keys = load_key_material(settings.keys_dir)
    yield Store(engine, make_session_factory(engine), AuditLog.from_settings(settings, keys))
    engine.dispose()


def counts(engine: Engine) -> tuple[int, int]:
    """(entries waiting in the intake, entries chained)."""
    with Session(engine) as session:
        waiting = session.exec(select(func.count(col(AuditIntakeRecord.id)))).one()
        chained = session.exec(select(func.count(col(AuditEntryRecord.seq)))).one()
    return waiting, chained


async def until_chained(engine: Engine, expected: int) -> None:
    for _ in range(200):
        if counts(engine) == (0, expected):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"not chained after 10 s: (waiting, chained) = {counts(engine)}")


def submit(store: Store, factory: sessionmaker[Session], count: int) -> None:
    with factory.begin() as session:
        store.log.submit(session, [event(f"req-{index}") for index in range(count)])


async def test_a_commit_that_submitted_entries_wakes_the_sequencer(store: Store) -> None:
    """With no idle pass for an hour, only the commit's wake-up can chain the entries."""
    sequencer = AuditSequencer(store.log, store.factory, gather=0, idle=3600)
    async with sequencer.running():
        submit(store, store.factory, 2)
        await until_chained(store.engine, 2)


async def test_the_idle_pass_chains_what_another_machine_left(store: Store) -> None:
    """Entries committed through a session factory of their own (another machine's, whose
    sequencer stopped) wake nobody here: the idle pass finds them."""
    sequencer = AuditSequencer(store.log, store.factory, idle=0.05)
    async with sequencer.running():
        submit(store, make_session_factory(store.engine), 1)
        await until_chained(store.engine, 1)


async def test_what_is_left_at_shutdown_is_chained(store: Store) -> None:
    sequencer = AuditSequencer(store.log, store.factory, idle=3600)
    async with sequencer.running():
        submit(store, make_session_factory(store.engine), 3)
        assert counts(store.engine) == (3, 0)
    assert counts(store.engine) == (0, 3)


async def test_requests_are_chained_by_the_apps_own_sequencer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The app's lifespan runs a sequencer: a request's entry is chained with no reader."""
    before = counts(app.state.engine)[1]
    response = await client.get("/v1/audit/keys")
    assert response.status_code == 401  # the refusal is recorded in a transaction of its own
    await until_chained(app.state.engine, before + 1)
    with Session(app.state.engine) as session:
        last = session.exec(
            select(AuditEntryRecord).order_by(col(AuditEntryRecord.seq).desc())
        ).first()
    assert last is not None
    assert (last.action, last.outcome) == ("access.denied", "denied")


def test_audit_verify_chains_the_intake_first(store: Store, settings: Settings) -> None:
    """Entries recorded but not chained yet (no sequencer ran) are chained, then verified."""
    submit(store, store.factory, 3)

    status, report, summary = verify_with_cli(service_env(settings.database_url, settings.keys_dir))

    assert status == 0, summary
    assert "chained 3 entries waiting in the intake" in summary
    assert report["entries_checked"] == 3
    assert counts(store.engine) == (0, 3)
