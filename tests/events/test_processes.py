"""The feed against real servers: Server-Sent Events (resume, clean shutdown) and concurrent
writers on two workers (PostgreSQL), read by a follower that must see every event once."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.alerts.builders import minimal_body
from tests.audit.processes import served, service_env
from tests.auth_helpers import Registry

EVENT_STREAM = {"Accept": "text/event-stream"}


async def frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The events of an SSE response (comments skipped), as ``{id, event, data}``."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if frame:
                yield frame
            frame = {}
            continue
        field, _, value = line.partition(": ")
        frame[field] = json.loads(value) if field == "data" else value


async def take(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return [await anext(stream) for _ in range(count)]


async def test_stream_resumes_after_last_event_id_and_ends_at_shutdown(
    app: FastAPI, registry: Registry, database_url: str, keys_dir: Path
) -> None:
    agency = await registry.agency(kind="customs")
    with served(service_env(database_url, keys_dir), workers=1) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            headers = await agency.headers(http)
            created = []
            async with http.stream(
                "GET", "/v1/events", headers={**headers, **EVENT_STREAM}
            ) as live:
                assert live.status_code == 200
                assert live.headers["content-type"].startswith("text/event-stream")
                for _ in range(3):
                    response = await http.post("/v1/alerts", json=minimal_body(), headers=headers)
                    assert response.status_code == 201
                    created.append(response.json()["id"])
                seen = await asyncio.wait_for(take(frames(live), 3), 20)
            assert [frame["data"]["alert_id"] for frame in seen] == created
            assert [frame["event"] for frame in seen] == ["alert.created"] * 3
            assert [frame["id"] for frame in seen] == [frame["data"]["id"] for frame in seen]

            resumed = {**headers, **EVENT_STREAM, "Last-Event-ID": seen[0]["id"]}
            async with http.stream("GET", "/v1/events", headers=resumed) as again:
                stream = frames(again)
                rest = await asyncio.wait_for(take(stream, 2), 20)
                assert [frame["id"] for frame in rest] == [frame["id"] for frame in seen[1:]]
                # The server shuts down with the stream open: the stream ends, the server exits.
                stopped = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                tail = [frame async for frame in stream]
            assert tail == []
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert await asyncio.to_thread(server.process.wait, 20) in (0, -signal.SIGTERM)
            assert time.monotonic() - stopped < 10


async def test_a_stream_ends_at_its_first_read_after_its_token_is_revoked(
    app: FastAPI, registry: Registry, database_url: str, keys_dir: Path
) -> None:
    """A stream holds its caller to the token: the event after a revocation is not sent, the
    stream ends instead (before, it went on delivering to the revoked token)."""
    reader = await registry.agency(kind="customs")
    writer = await registry.agency(kind="law_enforcement")
    with served(service_env(database_url, keys_dir), workers=1) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            reading = await reader.headers(http)
            writing = await writer.headers(http)
            async with http.stream(
                "GET", "/v1/events", headers={**reading, **EVENT_STREAM}
            ) as live:
                assert live.status_code == 200
                stream = frames(live)
                before = await http.post("/v1/alerts", json=minimal_body(), headers=writing)
                assert before.status_code == 201, before.text
                [seen] = await asyncio.wait_for(take(stream, 1), 20)
                assert seen["data"]["alert_id"] == before.json()["id"]
                revoked = await http.post(
                    "/oauth/revoke",
                    data={
                        "token": reading["Authorization"].removeprefix("Bearer "),
                        "client_assertion_type": (
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                        ),
                        "client_assertion": reader.assertion(),
                    },
                )
                assert revoked.status_code == 200, revoked.text
                after = await http.post("/v1/alerts", json=minimal_body(), headers=writing)
                assert after.status_code == 201, after.text
                tail = await asyncio.wait_for(_rest(stream), 20)
            assert tail == []


async def _rest(stream: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame async for frame in stream]


@pytest.mark.postgres_only
async def test_follower_sees_every_event_of_concurrent_writers_once_in_order(
    app: FastAPI, registry: Registry, database_url: str, keys_dir: Path
) -> None:
    writers = [await registry.agency(kind="customs") for _ in range(8)]
    reader = await registry.agency(kind="law_enforcement")
    with served(service_env(database_url, keys_dir), workers=2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            reader_headers = await reader.headers(http)
            start = (await http.get("/v1/events", headers=reader_headers)).json()["next_cursor"]
            done = asyncio.Event()

            async def write(headers: dict[str, str]) -> list[str]:
                ids = []
                for _ in range(15):
                    response = await http.post("/v1/alerts", json=minimal_body(), headers=headers)
                    assert response.status_code == 201, response.text
                    ids.append(response.json()["id"])
                return ids

            async def follow() -> list[dict[str, Any]]:
                seen: list[dict[str, Any]] = []
                cursor = start
                quiet_after_done = 0
                while quiet_after_done < 3:
                    page = (
                        await http.get(
                            "/v1/events",
                            params={"after": cursor, "wait": 1, "limit": 7},
                            headers=reader_headers,
                        )
                    ).json()
                    seen.extend(page["items"])
                    cursor = page["next_cursor"]
                    if done.is_set() and not page["items"]:
                        quiet_after_done += 1
                return seen

            following = asyncio.create_task(follow())
            writer_headers = [await agency.headers(http) for agency in writers]
            batches = await asyncio.gather(*(write(headers) for headers in writer_headers))
            done.set()
            seen = await following
    created = [alert_id for batch in batches for alert_id in batch]
    received = [event["alert_id"] for event in seen]
    assert sorted(received) == sorted(created)  # every one, none twice
    ids = [event["id"] for event in seen]
    decoded = [int.from_bytes(_cursor_bytes(event_id)[1:], "big") for event_id in ids]
    assert decoded == sorted(decoded)


def _cursor_bytes(cursor: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
