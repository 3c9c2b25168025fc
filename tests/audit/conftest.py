"""Audit test fixtures: an auditor with a real token, and the log as the database holds it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from exchange_api.audit import AuditAction, key_id, repository, verify_chain
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.audit.repository import all_checkpoints
from exchange_api.audit.sequencer import drain_intake
from tests.auth_helpers import Registry

AUDITOR_OFFICER = "NL-IGJ-AUDIT-0007"

_PG_TRIGGERS = {
    "audit_entries": ["audit_entries_append_only", "audit_entries_no_truncate"],
    "audit_entry_resources": [
        "audit_entry_resources_append_only",
        "audit_entry_resources_no_truncate",
    ],
    "audit_checkpoints": ["audit_checkpoints_append_only", "audit_checkpoints_no_truncate"],
    "audit_chain_head": [
        "audit_chain_head_no_truncate",
        "audit_chain_head_no_delete",
        "audit_chain_head_forward_only",
    ],
}


@pytest.fixture
async def auditor(registry: Registry, client: httpx.AsyncClient) -> dict[str, str]:
    """``Authorization`` of an officer of a regulatory agency's client holding ``audit:read``."""
    agency = await registry.agency(kind="regulatory", scopes="audit:read")
    return await agency.headers(client, officer=AUDITOR_OFFICER)


def stored_entries(app: FastAPI) -> list[dict[str, Any]]:
    """Every entry in the database, as export lines, up to the chain head (the intake chained
    first, as every reader of the log does)."""
    factory = app.state.session_factory
    drain_intake(app.state.audit_log, factory)
    with factory() as session:
        head = repository.chain_head(session).seq
    return [dict(entry) for entry in repository.iter_entries(factory, from_seq=1, to_seq=head)]


def append(app: FastAPI, count: int, *, action: AuditAction = AuditAction.ALERT_READ) -> None:
    """Record ``count`` entries in one transaction, as one request's recorder would, and chain
    them, as the sequencer would."""
    with app.state.session_factory() as session:
        recorder = AuditRecorder(
            app.state.audit_log,
            session,
            request_id=f"req-{uuid.uuid4().hex[:8]}",
            source_ip="192.0.2.1",
            identity=lambda: AuditIdentity(actor="officer-1", client_id="client-1"),
        )
        for _ in range(count):
            recorder.record(action, resource_ids=[str(uuid.uuid4())], result_count=1)
        recorder.flush()
        session.commit()
    drain_intake(app.state.audit_log, app.state.session_factory)


def verify_all(app: FastAPI) -> None:
    """The stored chain and every stored checkpoint verify."""
    log: AuditLog = app.state.audit_log
    public_key = app.state.keys.audit_signing_key.public_key()
    with app.state.session_factory() as session:
        checkpoints = all_checkpoints(session, up_to_seq=10**12)
    report = verify_chain(
        stored_entries(app), checkpoints, {key_id(public_key): public_key}, log_id=log.log_id
    )
    assert report.ok, report
    assert report.checkpoints_checked == len(checkpoints)


def drop_audit_triggers(engine: Engine) -> None:
    """What a database administrator can do: remove the append-only triggers."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table, triggers in _PG_TRIGGERS.items():
                for trigger in triggers:
                    connection.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
            return
        names = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_%'")
        ).scalars()
        for name in list(names):
            connection.execute(text(f"DROP TRIGGER {name}"))
