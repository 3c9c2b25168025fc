"""On PostgreSQL a read of alerts (one alert, a search) runs without a transaction: its SELECT
and its audit record's INSERT each commit on their own, saving the BEGIN and COMMIT round trips
(``exchange_api.db.commit_each_statement``). A write on the same pooled connection afterwards is
one transaction again, and the read's audit record is there."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.alerts.builders import minimal_body
from tests.alerts.http import open_desk, push
from tests.auth_helpers import Registry

pytestmark = pytest.mark.postgres_only


def _touches(statement: str) -> str | None:
    """Which of the request's own statements this is (the sequencers' are not looked at)."""
    text = " ".join(statement.split()).lower()
    if text.startswith("insert into audit_intake"):
        return "audit"
    if text.startswith("insert into event_intake"):
        return "event"
    if text.startswith("select") and " from alerts " in f"{text} " and "limit" in text:
        return "search"
    if text.startswith("select") and " from alerts " in f"{text} ":
        return "read"
    return None


async def test_reads_commit_each_statement_and_writes_keep_their_transaction(
    app: FastAPI, registry: Registry, client: httpx.AsyncClient
) -> None:
    desk = await open_desk(registry, client)
    alert_id = await push(client, desk, minimal_body())
    seen: list[tuple[str, bool]] = []

    def note(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        kind = _touches(statement)
        if kind is not None:
            seen.append((kind, connection.connection.driver_connection.autocommit))

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        read = await client.get(f"/v1/alerts/{alert_id}", headers=desk.reading())
        searched = await client.get("/v1/alerts", headers=desk.headers)
        assert read.status_code == 200, read.text
        assert searched.status_code == 200, searched.text
        reads, seen[:] = list(seen), []
        await push(client, desk, minimal_body())
        writes = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert sorted(reads) == [("audit", True), ("audit", True), ("read", True), ("search", True)]
    assert writes == [("event", False), ("audit", False)]
    auditor = await open_desk(registry, client, scopes="audit:read")
    entries = await client.get(
        "/v1/audit/events", params={"alert_id": alert_id}, headers=auditor.headers
    )
    assert "alert.read" in [entry["action"] for entry in entries.json()["items"]]
