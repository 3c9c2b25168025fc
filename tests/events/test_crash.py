"""A worker killed in the middle of a delivery loses nothing: after a restart the event is sent
again (at least once), and nothing sealed ever reaches the database's event tables, a payload,
the delivery log or a log line."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange_api.app import create_app
from exchange_api.config import Settings
from tests.alerts.builders import alert_body
from tests.audit.processes import served, service_env
from tests.auth_helpers import Registry
from tests.events.receiver import Receiver, free_port, receiving


@pytest.fixture
def registry(settings: Settings) -> Iterator[Registry]:
    """Agencies registered in the database by an app that does not run here: a running one would
    be one more webhook sender on the queue, without the servers' allow-list and retry delay,
    and could claim the delivery itself (``target-refused``, next attempt minutes later)."""
    application = create_app(settings)
    yield Registry(application)
    application.state.engine.dispose()


async def test_a_worker_killed_mid_delivery_loses_nothing(
    registry: Registry, database_url: str, keys_dir: Path
) -> None:
    agency = await registry.agency(kind="customs")
    env = {
        **service_env(database_url, keys_dir),
        "EXCHANGE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        "EXCHANGE_WEBHOOK_FIRST_RETRY": "0.2",
    }
    arrived = threading.Event()
    release = threading.Event()

    def answer(_got: object) -> tuple[int, dict[str, str]]:
        if not arrived.is_set():
            arrived.set()
            release.wait(10)  # the first attempt hangs until its worker is dead
        return 200, {}

    receiver = Receiver(free_port(), answer=answer)
    with receiving(receiver):
        with served(env, workers=1) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                headers = await agency.headers(http)
                body = {"name": "hook", "webhook": {"url": receiver.url}}
                created = (await http.post("/v1/subscriptions", json=body, headers=headers)).json()
                pushed = await http.post("/v1/alerts", json=alert_body(), headers=headers)
                assert pushed.status_code == 201
                assert await asyncio.to_thread(arrived.wait, 20)
                os.killpg(server.process.pid, signal.SIGKILL)  # mid-delivery, no goodbye
                await asyncio.to_thread(server.process.wait, 20)
        release.set()
        with served(env, workers=1) as server:
            started = time.monotonic()
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                headers = await agency.headers(http)
                path = f"/v1/subscriptions/{created['id']}/deliveries"
                while True:
                    log = (await http.get(path, headers=headers)).json()["items"]
                    if log[0]["state"] == "delivered":
                        break
                    # The lease (15 s) runs out, then the next round sends it again. The bound is
                    # generous: a loaded machine slows the restart, not the rule under test.
                    item = log[0]
                    assert time.monotonic() - started < 240, (
                        item["state"],
                        item["attempts"],
                        item["last_status"],
                        item["last_error"],
                        item["next_attempt_at"],
                        len(receiver.received),
                    )
                    await asyncio.sleep(0.5)
    ids = [got.headers["webhook-id"] for got in receiver.received]
    assert len(ids) >= 2
    assert set(ids) == {log[0]["event_id"]}
    assert log[0]["attempts"] >= 2
