"""``request.overdue``: produced once per request, the day after its due date, for its two
agencies only; never for a request answered in time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from exchange_api.assistance.overdue import notice_overdue_requests
from exchange_api.kit.clock import FrozenClock
from tests.alerts.builders import alert_body
from tests.alerts.http import Desk, push
from tests.assistance.helpers import REPLY, Cast, ask, cast_of, request_body
from tests.auth_helpers import Registry
from tests.events.test_feed import follow


@pytest.fixture
async def cast(registry: Registry, client: httpx.AsyncClient) -> Cast:
    return await cast_of(registry, client)


async def _overdue_events(client: httpx.AsyncClient, desk: Desk) -> list[Any]:
    return [e["request_id"] for e in await follow(client, desk) if e["type"] == "request.overdue"]


async def test_an_overdue_request_is_announced_once_to_its_two_agencies(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast
) -> None:
    clock = FrozenClock(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    app.state.clock = clock
    alert = await push(client, cast.police, alert_body())
    late = await ask(client, cast.customs, alert, request_body(cast.police, due_by="2027-03-01"))
    in_time = await ask(client, cast.customs, alert, request_body(cast.police, due_by="2027-03-01"))
    reply = {"outcome": "answered", "message": REPLY}
    answered = await client.post(
        f"/v1/requests/{in_time['id']}/reply", json=reply, headers=cast.police.headers
    )
    assert answered.status_code == 200, answered.text

    factory = app.state.session_factory
    assert notice_overdue_requests(factory, clock) == 0  # due today: not overdue yet
    clock.advance(timedelta(hours=12))  # midnight: the day after due_by
    assert notice_overdue_requests(factory, clock) == 1
    assert notice_overdue_requests(factory, clock) == 0  # once

    for _ in range(100):  # the event is sequenced moments after its commit
        if await _overdue_events(client, cast.police):
            break
        await asyncio.sleep(0.05)
    assert await _overdue_events(client, cast.police) == [late["id"]]
    assert await _overdue_events(client, cast.customs) == [late["id"]]
    assert await _overdue_events(client, cast.third) == []  # sees the alert, party to nothing
