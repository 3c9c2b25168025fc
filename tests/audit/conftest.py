"""Audit test fixtures: an auditor with a real token, and the log as the database holds it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from exchange_api.audit import repository
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.postgres_only``: run only the PostgreSQL case of a test (none without it)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("backend") == "sqlite"
        postgres_only = item.get_closest_marker("postgres_only") is not None
        (dropped if postgres_only and on_sqlite else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
async def auditor(registry: Registry, client: httpx.AsyncClient) -> dict[str, str]:
    """``Authorization`` of an officer of a regulatory agency's client holding ``audit:read``."""
    agency = await registry.agency(kind="regulatory", scopes="audit:read")
    return await agency.headers(client, officer=AUDITOR_OFFICER)


def stored_entries(app: FastAPI) -> list[dict[str, Any]]:
    """Every entry in the database, as export lines, up to the chain head."""
    factory = app.state.session_factory
    with factory() as session:
        head = repository.chain_head(session).seq
    return [dict(entry) for entry in repository.iter_entries(factory, from_seq=1, to_seq=head)]


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
