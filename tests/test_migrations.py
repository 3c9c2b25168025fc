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
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Uuid,
    column,
    create_engine,
    insert,
    inspect,
    select,
    table,
    text,
)
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


# The two tables as they are at revision 0012, typed so that ids bind on both backends.
_ALERTS_0012 = table(
    "alerts",
    *(column(name, Uuid()) for name in ("id", "reporting_agency_id")),
    *(column(name, Integer()) for name in ("version", "kek_version", "dek_version")),
    *(column(name, String()) for name in ("incident_type", "status", "distribution_scope")),
    *(column(name, Date()) for name in ("detected_on", "review_by")),
    *(column(name, JSON()) for name in ("substances", "route", "handling", "distribution")),
    column("wrapped_dek", LargeBinary()),
    *(column(name, DateTime(timezone=True)) for name in ("created_at", "updated_at")),
)
_SUBSTANCES_0012 = table("alert_substances", column("cas", String()), column("alert_id", Uuid()))
_SUBSTANCES = table(
    "alert_substances",
    column("substance_key", String()),
    column("alert_id", Uuid()),
    column("name", String()),
    column("quantity_kg"),
    column("quantity_l"),
)


def _substance_rows(connection: Connection) -> dict[tuple[str, uuid.UUID], tuple[object, ...]]:
    rows = connection.execute(select(_SUBSTANCES))
    return {(key, alert): (name, kg, litres) for key, alert, name, kg, litres in rows}


def test_substance_rows_are_rekeyed_merged_and_given_their_quantities(
    empty_database_url: str,
) -> None:
    """Rows stored by CAS number before 0013 keep it as key, 41232-97-7 becomes 77-83-8 (one row
    where an alert listed both), and each row gets its alert's quantities in kg and litres. The
    early warning's sightings (0020) are filled from the rows whose key is uncatalogued."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0012")
    engine = create_engine(empty_database_url)
    renumbered, both, mixed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    unlisted, unlisted_again = uuid.uuid4(), uuid.uuid4()
    lines = {
        renumbered: [
            {"cas": "41232-97-7", "quantity": 2, "unit": "t"},
            {"cas": "103-79-7", "quantity": 500, "unit": "ml"},
        ],
        both: [
            {"cas": "41232-97-7", "quantity": 1, "unit": "kg"},
            {"cas": "77-83-8", "quantity": 3, "unit": "l"},
        ],
        mixed: [
            {"cas": "108-24-7", "quantity": 250, "unit": "g"},
            {"cas": "108-24-7", "quantity": 1, "unit": "m3"},
            {"cas": "4433-77-6", "quantity": 12, "unit": "pcs"},
        ],
        unlisted: [{"cas": "50-00-0", "quantity": 5, "unit": "kg"}, {"cas": "103-79-7"}],
        unlisted_again: [{"cas": "50-00-0"}],
    }
    try:
        with engine.begin() as connection:
            now = datetime.now(UTC)
            agency = uuid.uuid4()
            connection.execute(
                insert(Agency).values(
                    id=agency, name="Customs", country="NL", kind="customs", created_at=now
                )
            )
            for alert_id, substance_lines in lines.items():
                values = {
                    "id": alert_id,
                    "version": 1,
                    "reporting_agency_id": agency,
                    "incident_type": "seizure",
                    "status": "open",
                    "detected_on": now.date(),
                    "review_by": now.date(),
                    "distribution_scope": "network",
                    "substances": substance_lines,
                    "route": {"origin": "CN", "transit": [], "destination": "NL"},
                    "handling": {},
                    "distribution": {"scope": "network"},
                    "kek_version": 1,
                    "wrapped_dek": b"dek",
                    "dek_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                connection.execute(insert(_ALERTS_0012).values(values))
                for cas in dict.fromkeys(line["cas"] for line in substance_lines):
                    connection.execute(insert(_SUBSTANCES_0012).values(cas=cas, alert_id=alert_id))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert _substance_rows(connection) == {
                ("77-83-8", renumbered): (None, 2000.0, None),
                ("103-79-7", renumbered): (None, None, 0.5),
                ("77-83-8", both): (None, 1.0, 3.0),
                ("108-24-7", mixed): (None, 0.25, 1000.0),
                ("4433-77-6", mixed): (None, None, None),
                ("50-00-0", unlisted): (None, 5.0, None),
                ("103-79-7", unlisted): (None, None, None),
                ("50-00-0", unlisted_again): (None, None, None),
            }
            sightings = connection.execute(
                select(SQLModel.metadata.tables["uncatalogued_sightings"])
            ).all()
            assert [tuple(row) for row in sightings] == [(now.date(), "50-00-0", agency, "", 2)]
    finally:
        engine.dispose()
