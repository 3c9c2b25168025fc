"""The log at rest: append-only triggers, gapless concurrent appends, checkpoints, and failing
closed when the log cannot be written — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from exchange_api.audit.appender import AuditLog
from exchange_api.audit.repository import all_checkpoints, latest_checkpoint
from exchange_api.config import Settings
from exchange_api.models.agencies import Agency
from exchange_api.models.audit import AuditIntakeRecord
from tests.audit.conftest import append, stored_entries, verify_all
from tests.auth_helpers import Registry


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


# --- append-only -------------------------------------------------------------------------------

REFUSED_STATEMENTS = [
    "UPDATE audit_entries SET actor = 'someone else' WHERE seq = 1",
    "DELETE FROM audit_entries WHERE seq = 1",
    "UPDATE audit_entry_resources SET resource_id = 'x'",
    "DELETE FROM audit_entry_resources",
    "UPDATE audit_checkpoints SET hash = repeat('0', 64)",
    "DELETE FROM audit_checkpoints",
    "DELETE FROM audit_chain_head",
    "UPDATE audit_chain_head SET seq = 0",
]


@pytest.mark.parametrize("statement", REFUSED_STATEMENTS)
def test_triggers_refuse_changing_history(app: FastAPI, engine: Engine, statement: str) -> None:
    append(app, 3)
    with app.state.session_factory.begin() as session:
        app.state.audit_log.checkpoint(session)
    if engine.dialect.name == "sqlite":
        statement = statement.replace("repeat('0', 64)", "'" + "0" * 64 + "'")

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))

    verify_all(app)
    assert [entry["seq"] for entry in stored_entries(app)] == [1, 2, 3]


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "table", ["audit_entries", "audit_entry_resources", "audit_checkpoints", "audit_chain_head"]
)
def test_postgres_refuses_truncate(app: FastAPI, engine: Engine, table: str) -> None:
    append(app, 2)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {table} CASCADE"))

    assert len(stored_entries(app)) == 2


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_appends_form_one_gapless_chain(app: FastAPI) -> None:
    threads, transactions, per_transaction = 8, 15, 3
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(transactions):
                append(app, per_transaction)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    entries = stored_entries(app)
    assert [entry["seq"] for entry in entries] == list(range(1, threads * transactions * 3 + 1))
    assert [entry["at"] for entry in entries] == sorted(entry["at"] for entry in entries)
    # Every transaction's entries are all there (chained by several threads, in turns).
    by_request: dict[str, list[str]] = {}
    for entry in entries:
        by_request.setdefault(entry["request_id"], []).append(entry["resource_ids"][0])
    assert len(by_request) == threads * transactions
    assert all(len(ids) == per_transaction for ids in by_request.values())
    verify_all(app)


# --- checkpoints -------------------------------------------------------------------------------


@pytest.fixture
def every_five(settings: Settings) -> Settings:
    return settings.model_copy(update={"audit_checkpoint_every": 5})


async def test_a_checkpoint_is_signed_at_every_multiple_of_the_count(
    every_five: Settings,
) -> None:
    from exchange_api.app import create_app

    app = create_app(every_five)
    for count in (3, 4, 1, 7):
        append(app, count)

    with app.state.session_factory() as session:
        checkpoints = all_checkpoints(session, up_to_seq=100)
    assert [checkpoint.seq for checkpoint in checkpoints] == [5, 10, 15]
    entries = stored_entries(app)
    assert [checkpoint.hash for checkpoint in checkpoints] == [
        entries[seq - 1]["hash"] for seq in (5, 10, 15)
    ]
    verify_all(app)
    app.state.engine.dispose()


def test_time_based_checkpoints_only_when_due_and_only_with_new_entries(app: FastAPI) -> None:
    def log_with(interval: timedelta) -> AuditLog:
        return AuditLog(
            log_id=app.state.audit_log.log_id,
            signing_key=app.state.keys.audit_signing_key,
            checkpoint_every=1000,
            checkpoint_interval=interval,
        )

    due_at_once, not_yet_due = log_with(timedelta(0)), log_with(timedelta(hours=1))
    factory = app.state.session_factory

    def checkpoint_if_due(audit_log: AuditLog) -> Any:
        with factory.begin() as session:
            return audit_log.checkpoint_if_due(session)

    assert checkpoint_if_due(due_at_once) is None  # an empty log needs none
    append(app, 2)
    first = checkpoint_if_due(due_at_once)
    assert first is not None
    assert first.seq == 2
    assert checkpoint_if_due(due_at_once) is None  # nothing new since
    append(app, 1)
    assert checkpoint_if_due(not_yet_due) is None  # new entries, but the last one is recent
    assert checkpoint_if_due(due_at_once).seq == 3
    verify_all(app)


async def test_the_background_task_checkpoints_new_entries(settings: Settings) -> None:
    from asgi_lifespan import LifespanManager

    from exchange_api.app import create_app

    app = create_app(settings.model_copy(update={"audit_checkpoint_interval": 1}))
    async with LifespanManager(app):
        append(app, 4)
        checkpoint = None
        for _ in range(300):
            await asyncio.sleep(0.1)
            with app.state.session_factory() as session:
                checkpoint = latest_checkpoint(session)
            if checkpoint is not None:
                break
        verify_all(app)
    assert checkpoint is not None
    assert checkpoint.seq == 4


def test_an_empty_log_can_be_checkpointed_on_demand(app: FastAPI) -> None:
    with app.state.session_factory.begin() as session:
        checkpoint, created = app.state.audit_log.checkpoint(session)
    with app.state.session_factory.begin() as session:
        again, created_again = app.state.audit_log.checkpoint(session)

    assert (checkpoint.seq, checkpoint.hash, created) == (0, "0" * 64, True)
    assert (again, created_again) == (checkpoint, False)
    verify_all(app)


# --- failing closed ----------------------------------------------------------------------------


def break_the_audit_table(engine: Engine, table: str = "audit_intake") -> None:
    """Make every insert into ``table`` fail, as a full disk or a lost grant would: by default
    the intake, where requests put their entries."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION test_audit_down() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$"
                )
            )
            connection.execute(
                text(
                    f"CREATE TRIGGER test_audit_down BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION test_audit_down()"
                )
            )
        else:
            connection.execute(
                text(
                    f"CREATE TRIGGER test_audit_down BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
                )
            )


def assert_audit_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["type"] == "urn:exchange-api:problem:audit-unavailable"
    assert set(body) == {"type", "title", "status", "detail"}


async def test_a_read_whose_entry_cannot_be_written_returns_503_and_no_content(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str], engine: Engine
) -> None:
    append(app, 3)
    break_the_audit_table(engine)

    for path in ("/v1/audit/events", "/v1/audit/keys", "/v1/audit/export"):
        response = await client.get(path, headers=auditor)
        assert_audit_unavailable(response)
        assert "hash" not in response.text


async def test_a_change_whose_entry_cannot_be_written_is_not_made(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry, engine: Engine
) -> None:
    operator = await registry.agency(kind="regulatory", scopes="network:admin clients:admin")
    admin = await operator.headers(client)
    break_the_audit_table(engine)

    response = await client.post(
        "/v1/admin/agencies",
        json={"name": "Never registered", "country": "BE", "kind": "customs"},
        headers=admin,
    )

    assert_audit_unavailable(response)
    with Session(engine) as session:
        names = set(session.exec(select(col(Agency.name))))
    assert "Never registered" not in names


async def test_a_refusal_that_cannot_be_recorded_is_503_too(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    break_the_audit_table(engine)

    assert_audit_unavailable(await client.get("/v1/audit/events"))


async def test_the_log_works_again_once_the_store_is_back(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str], engine: Engine
) -> None:
    break_the_audit_table(engine)
    assert_audit_unavailable(await client.get("/v1/audit/keys", headers=auditor))
    repair_the_audit_table(engine)

    assert (await client.get("/v1/audit/keys", headers=auditor)).status_code == 200
    verify_all(app)


def repair_the_audit_table(engine: Engine, table: str = "audit_intake") -> None:
    on_table = f" ON {table}" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(text(f"DROP TRIGGER test_audit_down{on_table}"))


async def test_entries_wait_in_the_intake_while_the_chain_cannot_be_written(
    app: FastAPI, client: httpx.AsyncClient, auditor: dict[str, str], engine: Engine
) -> None:
    """Requests go on (their entries are safe in the intake); the log is not shown incomplete:
    reading it is 503 until the entries can be chained, and then none is missing."""
    append(app, 2)
    break_the_audit_table(engine, "audit_entries")

    keys = await client.get("/v1/audit/keys", headers=auditor)
    assert keys.status_code == 200
    for path in ("/v1/audit/events", "/v1/audit/export", "/v1/audit/checkpoints/latest"):
        assert_audit_unavailable(await client.get(path, headers=auditor))
    with Session(engine) as session:
        waiting = session.exec(select(col(AuditIntakeRecord.action))).all()
    assert "audit.read" in waiting

    repair_the_audit_table(engine, "audit_entries")
    page = await client.get("/v1/audit/events", params={"limit": 200}, headers=auditor)
    assert page.status_code == 200
    actions = [item["action"] for item in page.json()["items"]]
    # The two appended reads and the /keys read, recorded while the chain could not be
    # written: none lost. The refused reads returned nothing and recorded nothing.
    assert actions.count("alert.read") == 2
    assert actions.count("audit.read") == 1
    assert "audit.export" not in actions
    verify_all(app)
