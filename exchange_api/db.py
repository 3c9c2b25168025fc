"""The database: engine, one-transaction-per-request sessions, and the migration head.

One request is one transaction, committed at the edge: the session dependency
(``exchange_api.kit.dependencies``) commits after the
endpoint returns and *before* the response is sent (``scope="function"``), so a failed commit — of a
change or of the audit record that must accompany a read — becomes an error response, never a
success whose record was lost. Services flush, they never commit. On PostgreSQL the reads whose
only write is that record run without a transaction, each statement committing on its own
(:func:`commit_each_statement`).

SQLite runs every transaction as ``BEGIN IMMEDIATE``: nearly every request writes (at least its
audit record), and taking the write lock up front avoids the deadlock of two readers upgrading at
once.

Text a database cannot store — a NUL character (PostgreSQL's text refuses it) or an unpaired
surrogate (not UTF-8 at all) — is refused by the engine itself, before the statement is sent:
:class:`UnstorableText`, a 400. Every way a value comes in (path, query, headers, form and JSON
bodies, and what is decoded from inside them: a Basic user name, a JWT's ``iss``) ends in a
statement, so this one check covers them all, on both backends alike (SQLite would store a NUL,
and PostgreSQL would then refuse what SQLite accepted).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic_core import from_json
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.config import Settings
from exchange_api.errors import BadRequest

__all__ = [
    "UnstorableText",
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


class UnstorableText(BadRequest):
    """400: a value holds a character no database column can keep (NUL, unpaired surrogate)."""

    slug = "unstorable-text"
    title = "Unstorable text"

    def __init__(self) -> None:
        super().__init__(
            "A value in the request holds a NUL character or an unpaired surrogate, which "
            "cannot be stored or searched for."
        )


def _unstorable(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if "\x00" in value:
        return True
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _refuse_unstorable_text(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    rows: Iterable[Any] = parameters if executemany else (parameters,)
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row
        if values is not None and any(_unstorable(value) for value in values):
            raise UnstorableText()


def create_db_engine(settings: Settings) -> Engine:
    """Build the engine for the configured database.

    ``hide_parameters``: a database error's text never carries the bound values (they may be case
    data), so it is safe to log. ``json_deserializer``: JSON columns are read by pydantic-core's
    parser, which builds the same values as :func:`json.loads` in about half its time (a search
    reads four JSON columns for each of 50 alerts; the standard parser was 7 % of its CPU)."""
    if settings.is_sqlite:
        engine = create_engine(
            settings.database,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
            json_deserializer=from_json,
        )
        _configure_sqlite(engine)
    else:
        engine = create_engine(
            settings.database,
            pool_size=10,
            max_overflow=10,
            hide_parameters=True,
            json_deserializer=from_json,
        )
        _ping_after_idle(engine)
        _speak_utc(engine)
    event.listen(engine, "before_cursor_execute", _refuse_unstorable_text)
    return engine


PING_AFTER_IDLE_S = 1.0
"""A pooled connection unused this long is checked with a ``SELECT 1`` before a request gets it."""


def _ping_after_idle(engine: Engine) -> None:
    """``pool_pre_ping``, but only for a connection that sat idle in the pool.

    ``pool_pre_ping`` costs every request a round trip (and a trip through the driver) to learn
    what a connection returned a millisecond ago already showed: that it works. A connection goes
    stale while it is *idle* (the database restarted, a firewall dropped it), so only one idle for
    more than :data:`PING_AFTER_IDLE_S` is pinged; a dead one is replaced before the request sees
    it (SQLAlchemy's recipe: ``DisconnectionError`` from ``checkout`` makes the pool reconnect).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(type(exc).__name__) from exc


def _speak_utc(engine: Engine) -> None:
    """Have every PostgreSQL session speak UTC, whatever the server's default ``TimeZone``.

    The service stores and compares UTC only (``UTCDateTime``); nothing it runs in SQL depends
    on the session's zone. What the zone changes is the cost of reading: psycopg hands back a
    ``timestamptz`` in the session's zone, and under a named zone (Debian's default is
    ``Etc/UTC``) every value read is converted into it and then back to UTC, which was 4 % of a
    search's CPU (50 rows). Under ``UTC`` psycopg gives ``datetime.UTC`` itself and neither
    conversion runs. Set once per new connection; committed, so that the pool's rollback on
    check-in does not undo it."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()


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


def commit_each_statement(session: Session) -> None:
    """Let each statement of ``session`` commit on its own (autocommit), on PostgreSQL, for a
    request whose only write is its audit record: a read.

    A read's transaction costs two of its four round trips (``BEGIN`` and ``COMMIT``, besides
    its ``SELECT`` and the audit record's ``INSERT``) and buys nothing: at ``READ COMMITTED``
    (PostgreSQL's default, and ours) every statement reads its own snapshot inside a
    transaction too, and the audit record's one statement commits by itself before the answer
    is sent, or fails the request (503) as a failed commit would. The pool restores the
    connection's transactions when it is returned.

    Nothing changes when the session's transaction has begun already (the token state was read
    in it), nor on SQLite, where transaction control is ours (``BEGIN IMMEDIATE`` above) and
    pysqlite's own autocommit switch would undo it on the connection's return."""
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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
