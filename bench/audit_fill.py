"""Grow the secure app's audit log to a size worth verifying, through the real appender.

Reaching 1M entries through HTTP would take hours of requests; this appends synthetic
``alert.read`` events with :class:`exchange_api.audit.appender.AuditLog` — the code every request
uses, so entries are hashed, chained, indexed and checkpointed exactly as in service — in large
transactions. Safe beside a running server (the appender locks the chain head), but meant for
when it is idle.
"""

from __future__ import annotations

import uuid

from exchange_api.audit.appender import AuditEvent, AuditLog
from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.repository import chain_head
from exchange_api.config import Settings
from exchange_api.crypto import load_key_material
from exchange_api.db import create_db_engine, make_session_factory

__all__ = ["fill_audit_log"]

CHUNK = 10_000


def _event(number: int, client_id: str) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.ALERT_READ,
        outcome=Outcome.ALLOWED,
        actor=client_id,
        client_id=client_id,
        agency=str(uuid.UUID(int=number % 50)),
        token_id=f"bench-token-{number // 1000}",
        request_id=str(uuid.UUID(int=number)),
        source_ip="127.0.0.1",
        resource_ids=(str(uuid.UUID(int=10**12 + number)),),
        result_count=1,
        fields=("routing", "parties", "persons"),
        purpose="benchmark case BENCH-0001",
    )


def fill_audit_log(settings: Settings, target_entries: int, client_id: str) -> int:
    """Append entries until the log holds ``target_entries``; returns how many were added."""
    log = AuditLog.from_settings(settings, load_key_material(settings.keys_dir))
    engine = create_db_engine(settings)
    factory = make_session_factory(engine)
    added = 0
    try:
        while True:
            with factory() as session:
                present = chain_head(session).seq
                missing = min(target_entries - present, CHUNK)
                if missing <= 0:
                    return added
                log.append(session, [_event(present + i, client_id) for i in range(missing)])
                session.commit()
            added += missing
    finally:
        engine.dispose()
