"""Inserting many rows at once (``COPY`` on PostgreSQL, one executemany elsewhere), and taking
the oldest rows out of an intake table.

A batch of 500 alerts is some 6,000 rows, and a chaining pass of the audit log hundreds: row-by-row
statements (even pipelined) cost both ends several times more than ``COPY``. The rows go in the
caller's transaction, on its connection.
"""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

import psycopg
from psycopg import sql as psycopg_sql
from psycopg.types.json import set_json_dumps
from pydantic_core import to_json
from sqlalchemy import Connection, Dialect, Row, Table, bindparam, delete, insert, select
from sqlalchemy.exc import DBAPIError

__all__ = ["insert_rows", "take_oldest"]


def take_oldest(connection: Connection, table: Table, limit: int) -> list[Row[Any]]:
    """Delete the ``limit`` rows of ``table`` with the smallest ``id`` and return them (in no
    particular order), on ``connection``; the caller holds the lock that makes it the only taker.

    Two statements, not ``DELETE … WHERE id IN (SELECT id … ORDER BY id LIMIT n)``: once the
    table has been analyzed while nearly empty, PostgreSQL plans that subquery as a semi-join
    over the whole intake and a pass takes seconds where it took milliseconds (the benchmark
    saw event latency grow to 20 s behind a bulk load). The ids read first and deleted by
    primary key cannot be planned badly.
    """
    ids = connection.execute(_oldest_ids(table), {"limit": limit}).scalars().all()
    if not ids:
        return []
    return list(connection.execute(_delete_ids(table), {"ids": list(ids)}).all())


@lru_cache
def _oldest_ids(table: Table) -> Any:
    return select(table.c.id).order_by(table.c.id).limit(bindparam("limit"))


@lru_cache
def _delete_ids(table: Table) -> Any:
    return delete(table).where(table.c.id.in_(bindparam("ids", expanding=True))).returning(*table.c)


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``, on ``connection``."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, rows)
    else:
        connection.execute(insert(table), rows)


def _copy_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    # Datetimes are already aware UTC (utc_now()); JSON columns hold JSON-mode values (str,
    # numbers, lists, dicts), which pydantic-core serialises several times faster than json.
    columns = tuple(rows[0])
    statement, types = _copy_plan(table, columns, connection.dialect)
    values_of = itemgetter(*columns)  # every table has two columns or more: a tuple per row
    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    try:
        with driver.cursor() as cursor:
            set_json_dumps(to_json, cursor)
            with cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(values_of(row))
    except psycopg.Error as exc:
        # Past SQLAlchemy, so wrapped as it would have: callers handle SQLAlchemyError alone.
        raise DBAPIError.instance(
            f"COPY {table.name}", None, exc, psycopg.Error, hide_parameters=True
        ) from exc


@lru_cache(maxsize=64)
def _copy_plan(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[psycopg_sql.Composed, list[str]]:
    """The ``COPY`` statement for ``columns`` of ``table`` and their PostgreSQL type names.

    Binary COPY: values go in as psycopg dumps them (uuid, bytea, timestamptz, date, bool), so
    the server neither parses UUIDs and timestamps nor decodes bytea from hex; it needs the
    types (``VARCHAR(32)`` → ``varchar``) to pick each value's binary form.
    """
    statement = psycopg_sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        psycopg_sql.Identifier(table.name),
        psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(name) for name in columns),
    )
    types = [
        table.c[name].type.compile(dialect=dialect).split("(", 1)[0].lower() for name in columns
    ]
    return statement, types
