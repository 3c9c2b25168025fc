"""Alembic is the only way the schema changes: the migrations build exactly the models' schema,
on an empty SQLite and an empty PostgreSQL database, and come down again to nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, insert, inspect, text
from sqlmodel import SQLModel

import exchange_api.models  # noqa: F401
from exchange_api.db import alembic_config, head_revision, migrate_to_head
from exchange_api.models.agencies import Agency, Client
from tests.conftest import PostgresDatabases


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    name = postgres.create("empty")
    yield postgres.url_of(name)
    postgres.drop(name)


def test_upgrade_matches_models_and_downgrades_to_base(empty_database_url: str) -> None:
    migrate_to_head(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "target_metadata": SQLModel.metadata}
            )
            assert context.get_current_revision() == head_revision(empty_database_url)
            differences = compare_metadata(context, SQLModel.metadata)
        assert differences == []
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())

        command.downgrade(alembic_config(empty_database_url), "base")
        leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
    finally:
        engine.dispose()


def _scopes_by_client(connection: Connection) -> dict[str, str]:
    rows = connection.execute(text("SELECT client_id, scopes FROM clients"))
    return {client_id: scopes for client_id, scopes in rows}


def test_the_old_admin_scope_becomes_the_agency_local_clients_admin(
    empty_database_url: str,
) -> None:
    """``admin`` was global and held by agencies' own clients: no stored client keeps a reach
    beyond its agency; none becomes the network operator."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0013")
    engine = create_engine(empty_database_url)
    agency = uuid.uuid4()
    try:
        with engine.begin() as connection:
            now = datetime.now(UTC)
            connection.execute(
                insert(Agency).values(
                    id=agency, name="Police", country="NL", kind="law_enforcement", created_at=now
                )
            )
            for client_id, scopes in [("a", "alerts:read admin"), ("b", "alerts:read")]:
                connection.execute(
                    insert(Client).values(
                        client_id=client_id,
                        agency_id=agency,
                        name="system",
                        scopes=scopes,
                        created_at=now,
                    )
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert _scopes_by_client(connection) == {
                "a": "alerts:read clients:admin",
                "b": "alerts:read",
            }
        command.downgrade(config, "0013")
        with engine.connect() as connection:
            assert _scopes_by_client(connection) == {"a": "admin alerts:read", "b": "alerts:read"}
    finally:
        engine.dispose()
