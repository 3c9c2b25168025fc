"""The engine's pool: a connection that went stale while idle is replaced before use, and one in
steady use is not pinged; every session speaks UTC, whatever the server's default zone."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import NullPool, create_engine, text

from exchange_api import db
from exchange_api.config import Settings

pytestmark = pytest.mark.postgres_only


def test_an_idle_connection_whose_server_side_died_is_replaced_unseen(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.create_db_engine(settings)
    killer = create_engine(settings.database, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            first = connection.execute(text("select pg_backend_pid()")).scalar_one()
        with killer.connect() as connection:
            connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # it has been idle long enough
        with engine.connect() as connection:
            second = connection.execute(text("select pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()
        killer.dispose()


def test_a_connection_in_steady_use_is_not_pinged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.create_db_engine(settings)
    pings: list[Any] = []
    ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    try:
        for _ in range(3):
            with engine.connect() as connection:
                connection.execute(text("select 1"))
        assert pings == []
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_every_session_speaks_utc_whatever_the_servers_zone(settings: Settings) -> None:
    """A server whose default zone is not UTC (here through the connection's startup options,
    as ``ALTER DATABASE … SET timezone`` would) still gives the service UTC sessions, across the
    pool's check-in, and psycopg reads ``timestamptz`` as ``datetime.UTC`` itself."""
    url = settings.database.update_query_dict({"options": "-c TimeZone=America/New_York"})
    bare = create_engine(url, poolclass=NullPool)
    engine = db.create_db_engine(
        settings.model_copy(update={"database_url": url.render_as_string(hide_password=False)})
    )
    try:
        with bare.connect() as connection:  # the zone the server would give
            assert connection.execute(text("show timezone")).scalar_one() == "America/New_York"
        for _ in range(2):  # the second time from the pool, after its rollback on check-in
            with engine.connect() as connection:
                assert connection.execute(text("show timezone")).scalar_one() == "UTC"
                moment = connection.execute(text("select now()")).scalar_one()
                assert moment.tzinfo is UTC
    finally:
        engine.dispose()
        bare.dispose()
