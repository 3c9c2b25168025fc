"""Requests between agencies: refused input, deadlines on a controllable clock, and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from exchange_api.kit.clock import FrozenClock
from tests.alerts.builders import alert_body
from tests.alerts.http import assert_problem, push
from tests.assistance.helpers import (
    MESSAGE,
    REPLY,
    Cast,
    ask,
    box,
    cast_of,
    request_body,
    stored_requests,
    stored_row,
)
from tests.auth_helpers import Registry
from tests.conftest import Cli

SECRET = "Sensitive-Value-0042"


@pytest.fixture
async def cast(registry: Registry, client: httpx.AsyncClient) -> Cast:
    return await cast_of(registry, client)


@pytest.fixture
async def alert(client: httpx.AsyncClient, cast: Cast) -> str:
    return await push(client, cast.police, alert_body())


BAD_REQUESTS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown kind", {"kind": SECRET}, ["body", "kind"]),
    ("unknown urgency", {"urgency": SECRET}, ["body", "urgency"]),
    ("past due_by", {"due_by": "2020-01-01"}, ["body", "due_by"]),
    ("not a date", {"due_by": SECRET}, ["body", "due_by"]),
    ("empty message", {"message": ""}, ["body", "message"]),
    ("blank message", {"message": "  \n\t "}, ["body", "message"]),
    ("NUL in message", {"message": f"{SECRET}\x00"}, ["body", "message"]),
    ("escape in message", {"message": f"{SECRET}\x1b[2J"}, ["body", "message"]),
    ("message too long", {"message": SECRET * 1000}, ["body", "message"]),
    ("unknown field", {"from": SECRET}, ["body", "from"]),
    ("to not an agency", {"to": "01900000-0000-7000-8000-000000000000"}, ["body", "to"]),
    ("to not an id", {"to": SECRET}, ["body", "to"]),
    ("missing to", {"to": None}, ["body", "to"]),
]


@pytest.mark.parametrize(("why", "change", "loc"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
async def test_bad_requests_are_422_with_loc_and_write_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    cast: Cast,
    alert: str,
    why: str,
    change: dict[str, Any],
    loc: list[str],
) -> None:
    body = {**request_body(cast.police), **change}
    if body["to"] is None:
        del body["to"]
    response = await client.post(
        f"/v1/alerts/{alert}/requests", json=body, headers=cast.customs.headers
    )
    problem = assert_problem(response, 422, "validation-error")
    assert loc in [issue["loc"] for issue in problem["errors"]], problem
    assert SECRET not in response.text
    assert stored_requests(app) == 0


async def test_a_request_to_the_callers_own_agency_is_422(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    response = await client.post(
        f"/v1/alerts/{alert}/requests", json=request_body(cast.police), headers=cast.police.headers
    )
    problem = assert_problem(response, 422, "validation-error")
    assert [issue["loc"] for issue in problem["errors"]] == [["body", "to"]]
    assert stored_requests(app) == 0


BAD_REPLIES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown outcome", {"outcome": SECRET, "message": REPLY}, ["body", "outcome"]),
    ("open is no outcome", {"outcome": "open", "message": REPLY}, ["body", "outcome"]),
    ("empty message", {"outcome": "answered", "message": ""}, ["body", "message"]),
    ("NUL in message", {"outcome": "answered", "message": f"{SECRET}\x00"}, ["body", "message"]),
    ("no message", {"outcome": "declined"}, ["body", "message"]),
    (
        "unknown field",
        {"outcome": "answered", "message": REPLY, "state": SECRET},
        ["body", "state"],
    ),
]


@pytest.mark.parametrize(("why", "body", "loc"), BAD_REPLIES, ids=[b[0] for b in BAD_REPLIES])
async def test_bad_replies_are_422_with_loc_and_change_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    cast: Cast,
    alert: str,
    why: str,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    created = await ask(client, cast.customs, alert, request_body(cast.police))
    response = await client.post(
        f"/v1/requests/{created['id']}/reply", json=body, headers=cast.police.headers
    )
    problem = assert_problem(response, 422, "validation-error")
    assert loc in [issue["loc"] for issue in problem["errors"]], problem
    assert SECRET not in response.text
    row = stored_row(app, created["id"])
    assert (row["outcome"], row["sealed_reply"], row["replied_at"]) == (None, None, None)


async def test_overdue_the_day_after_due_by_not_before_and_not_once_answered(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    clock = FrozenClock(datetime(2027, 3, 1, 23, 30, tzinfo=UTC))
    app.state.clock = clock
    yesterday = await client.post(
        f"/v1/alerts/{alert}/requests",
        json=request_body(cast.police, due_by="2027-02-28"),
        headers=cast.customs.headers,
    )
    assert_problem(yesterday, 422, "validation-error")
    today = await ask(client, cast.customs, alert, request_body(cast.police, due_by="2027-03-01"))
    later = await ask(client, cast.customs, alert, request_body(cast.police, due_by="2027-03-03"))

    async def states() -> dict[str, str]:
        return {item["id"]: item["state"] for item in await box(client, cast.police)}

    async def overdue() -> list[str]:
        return [item["id"] for item in await box(client, cast.police, state="overdue")]

    assert await states() == {today["id"]: "open", later["id"]: "open"}
    clock.advance(timedelta(minutes=29))  # 23:59 on the due day: still open
    assert await overdue() == []
    clock.advance(timedelta(minutes=1))  # midnight: the day after due_by
    assert await states() == {today["id"]: "overdue", later["id"]: "open"}
    assert await overdue() == [today["id"]]
    assert [i["id"] for i in await box(client, cast.police, state="open")] == [later["id"]]
    read = await client.get(f"/v1/requests/{today['id']}", headers=cast.police.reading())
    assert read.json()["state"] == "overdue"

    reply = {"outcome": "answered", "message": REPLY}
    answered = await client.post(
        f"/v1/requests/{today['id']}/reply", json=reply, headers=cast.police.headers
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert answered.json()["replied_at"] == "2027-03-02T00:00:00Z"

    clock.advance(timedelta(days=30))
    assert await states() == {today["id"]: "answered", later["id"]: "overdue"}
    assert await overdue() == [later["id"]]


async def test_retention_shreds_the_messages_and_keeps_the_metadata(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, cli: Cli
) -> None:
    due = await push(
        client, cast.police, alert_body(detected_on="2020-01-10", review_by="2021-01-01")
    )
    created = await ask(client, cast.customs, due, request_body(cast.police))
    reply = {"outcome": "answered", "message": REPLY}
    path = f"/v1/requests/{created['id']}"
    assert (await client.post(f"{path}/reply", json=reply, headers=cast.police.headers)).is_success
    unanswered = await ask(client, cast.customs, due, request_body(cast.police))

    done = cli("retention", "run")
    assert done.returncode == 0, done.stderr

    for request_id in (created["id"], unanswered["id"]):
        row = stored_row(app, request_id)
        assert (row["sealed_message"], row["sealed_reply"]) == (None, None)
        for party in (cast.customs, cast.police):
            read = await client.get(f"/v1/requests/{request_id}", headers=party.reading())
            assert_problem(read, 410, "alert-shredded")
            assert MESSAGE not in read.text
    listed = {item["id"]: item for item in await box(client, cast.police)}
    assert listed[created["id"]]["state"] == "answered"
    assert set(listed) == {created["id"], unanswered["id"]}
    assert_problem(
        await client.post(
            f"/v1/requests/{unanswered['id']}/reply", json=reply, headers=cast.police.headers
        ),
        410,
        "alert-shredded",
    )
    again = await client.post(
        f"/v1/alerts/{due}/requests", json=request_body(cast.police), headers=cast.customs.headers
    )
    assert_problem(again, 410, "alert-shredded")
    assert stored_requests(app) == 2
