"""On PostgreSQL a read (one alert, a search, follow-ups) runs without a transaction: its SELECTs
and its audit record's INSERT each commit on their own, saving the BEGIN and COMMIT round trips
(``exchange_api.db.commit_each_statement``). Nothing but SELECTs and the audit record runs in
autocommit, so a write added to a read later cannot slip in unnoticed. A write afterwards is one
transaction again (the pool restores its connections), and the read's audit record is there."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.alerts.builders import minimal_body
from tests.alerts.http import open_desk, push
from tests.auth_helpers import Registry
from tests.followups.builders import follow

pytestmark = pytest.mark.postgres_only


def _touches(statement: str) -> str | None:
    """Which of the requests' own statements this is (the sequencers' are not looked at)."""
    text = " ".join(statement.split()).lower()
    if text.startswith("insert into audit_intake"):
        return "audit"
    if text.startswith("insert into event_intake"):
        return "event"
    background = ("audit_", "event_", "events", "webhook_", "assistance")
    if (
        text.startswith("select")
        and (" from alerts" in text or " from followups" in text)
        and not any(f" from {table}" in text for table in background)
    ):
        return "read"
    return None


async def test_reads_commit_each_statement_and_writes_keep_their_transaction(
    app: FastAPI, registry: Registry, client: httpx.AsyncClient
) -> None:
    desk = await open_desk(registry, client)
    alert_id = await push(client, desk, minimal_body())
    followup_id = await follow(client, desk, alert_id)
    seen: list[tuple[str, bool]] = []
    alone: list[str] = []  # every statement run in autocommit (the sequencers' never are)
    intakes: list[str] = []

    def note(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        autocommit = connection.connection.driver_connection.autocommit
        if autocommit:
            alone.append(" ".join(statement.split()[:3]).lower())
        kind = _touches(statement)
        if kind is not None:
            seen.append((kind, autocommit))
        if kind == "audit":
            intakes.append(statement.lower())

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        read = await client.get(f"/v1/alerts/{alert_id}", headers=desk.reading())
        searched = await client.get("/v1/alerts", headers=desk.headers)
        listed = await client.get(f"/v1/alerts/{alert_id}/followups", headers=desk.reading())
        one = await client.get(
            f"/v1/alerts/{alert_id}/followups/{followup_id}", headers=desk.reading()
        )
        for response in (read, searched, listed, one):
            assert response.status_code == 200, response.text
        reads, seen[:] = list(seen), []
        await push(client, desk, minimal_body())
        writes = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert [kind for kind, _ in reads].count("audit") == 4
    # Nothing reads an intake row's id back: the INSERT asks for none.
    assert not any("returning" in statement for statement in intakes), intakes
    assert [kind for kind, _ in reads].count("read") >= 4
    assert all(autocommit for _, autocommit in reads), reads
    assert alone
    assert all(s.startswith("select") or s == "insert into audit_intake" for s in alone), alone
    assert [kind for kind, _ in writes if kind != "read"] == ["event", "audit"]
    assert not any(autocommit for _, autocommit in writes), writes
    auditor = await open_desk(registry, client, scopes="audit:read")
    entries = await client.get(
        "/v1/audit/events", params={"alert_id": alert_id}, headers=auditor.headers
    )
    assert "alert.read" in [entry["action"] for entry in entries.json()["items"]]
