"""The event stream's rhythm, served by uvicorn in this process so that its heartbeat can be
short: a quiet stream sends comments and never repeats an event it sent, and a stream whose
client is disabled ends at its next comment, with the refusal in the audit log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col

from exchange_api.events import endpoints
from exchange_api.models.agencies import Client
from tests.alerts.builders import minimal_body
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry

EVENT_STREAM = {"Accept": "text/event-stream"}
KEEP_ALIVE = ": keep-alive"


@pytest.fixture(autouse=True)
def short_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoints, "HEARTBEAT_SECONDS", 0.2)


@asynccontextmanager
async def on_loopback(app: FastAPI) -> AsyncIterator[str]:
    """``app`` (already started) served by uvicorn on a free loopback port, in this loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _until(lines: AsyncIterator[str], done: list[str], keep_alives: int) -> None:
    """Read ``lines`` into ``done`` until ``keep_alives`` comments came after an event."""
    seen = 0
    async for line in lines:
        done.append(line)
        if line == KEEP_ALIVE and any(each.startswith("id: ") for each in done):
            seen += 1
            if seen == keep_alives:
                return


async def test_a_quiet_stream_sends_comments_and_never_repeats_an_event(
    app: FastAPI, registry: Registry
) -> None:
    reader = await registry.agency(kind="customs")
    writer = await registry.agency(kind="law_enforcement")
    async with on_loopback(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        reading = await reader.headers(http)
        writing = await writer.headers(http)
        async with http.stream("GET", "/v1/events", headers={**reading, **EVENT_STREAM}) as live:
            assert live.status_code == 200
            lines = live.aiter_lines()
            created = await http.post("/v1/alerts", json=minimal_body(), headers=writing)
            assert created.status_code == 201, created.text
            read: list[str] = []
            await asyncio.wait_for(_until(lines, read, keep_alives=3), 20)
    events = [line for line in read if line.startswith("id: ")]
    assert len(events) == 1, read  # before, each quiet heartbeat sent the last page again
    assert created.json()["id"] in next(line for line in read if line.startswith("data: "))


async def test_a_stream_ends_at_its_next_comment_once_its_client_is_disabled(
    app: FastAPI, registry: Registry
) -> None:
    reader = await registry.agency(kind="customs")
    async with on_loopback(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        reading = await reader.headers(http)
        async with http.stream("GET", "/v1/events", headers={**reading, **EVENT_STREAM}) as live:
            assert live.status_code == 200
            lines = live.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 10) == ": events"
            with app.state.session_factory.begin() as session:
                session.execute(
                    update(Client)
                    .where(col(Client.client_id) == reader.client_id)
                    .values(disabled_at=datetime.now(UTC))
                )
            # No event comes: the stream ends at the next heartbeat (before, it went on).
            await asyncio.wait_for(_rest(lines), 10)
    refusals = [
        entry
        for entry in stored_entries(app)
        if entry["action"] == "access.denied" and entry["client_id"] == reader.client_id
    ]
    assert [entry["outcome"] for entry in refusals] == ["denied"]


async def _rest(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines]
