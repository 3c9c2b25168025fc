"""The database: engine, one-transaction-per-request sessions, and the migration head.

One request is one transaction, committed at the edge: the session dependency
(``exchange_api.kit.dependencies``) commits after the
endpoint returns and *before* the response is sent (``scope="function"``), so a failed commit — of a
change or of the audit record that must accompany a read — becomes an error response, never a
success whose record was lost. Services flush, they never commit.

SQLite runs every transaction as ``BEGIN IMMEDIATE``: nearly every request writes (at least its
audit record), and taking the write lock up front avoids the deadlock of two readers upgrading at
once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.config import Settings

__all__ = [
    "alembic_config",
    "before_commit",
    "commit_request_session",
    "create_db_engine",
    "current_revision",
    "head_revision",
    "make_session_factory",
    "migrate_to_head",
    "roll_back_request_session",
]

_ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"
_BEFORE_COMMIT = "before_commit_hooks"


def create_db_engine(settings: Settings) -> Engine:
    """Build the engine for the configured database.

    ``hide_parameters``: a database error's text never carries the bound values (they may be case
    data), so it is safe to log."""
    if settings.is_sqlite:
        engine = create_engine(
            settings.database,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        settings.database,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, class_=Session, expire_on_commit=False, autoflush=True)


def before_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run ``hook`` when the request's transaction is about to commit, after the endpoint.

    The audit recorder submits its entries here, once the endpoint has recorded everything. A
    hook that raises fails the request: nothing is committed.
    """
    session.info.setdefault(_BEFORE_COMMIT, []).append(hook)


def commit_request_session(session: Session) -> None:
    """Commit a request's session at the edge, after its before-commit hooks, and close it."""
    with session:
        for hook in session.info.pop(_BEFORE_COMMIT, ()):
            hook()
        session.commit()


def roll_back_request_session(session: Session) -> None:
    with session:
        session.rollback()


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic configuration for this project's migrations and the given database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(_ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate_to_head(database_url: str) -> None:
    """Upgrade the database to the newest migration (the only way the schema changes)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
