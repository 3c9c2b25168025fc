"""Alembic is the only way the schema changes: the migrations build exactly the models' schema,
on an empty SQLite and an empty PostgreSQL database, and come down again to nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import exchange_api.models  # noqa: F401
from exchange_api.db import alembic_config, head_revision, migrate_to_head
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
