"""The engine's pool: a connection that went stale while idle is replaced before use, and one in
steady use is not pinged."""

from __future__ import annotations

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
