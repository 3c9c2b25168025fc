"""Requests between agencies through the real app, on SQLite and PostgreSQL: who may ask whom,
who may read and reply, and what is kept sealed."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.alerts.builders import alert_body, minimal_body
from tests.alerts.http import PURPOSE, assert_problem, open_desk, push
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
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry


@pytest.fixture
async def cast(registry: Registry, client: httpx.AsyncClient) -> Cast:
    return await cast_of(registry, client)


@pytest.fixture
async def alert(client: httpx.AsyncClient, cast: Cast) -> str:
    return await push(client, cast.police, alert_body())


async def test_the_two_agencies_read_a_request_and_only_the_addressee_replies_once(
    client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    created = await ask(client, cast.customs, alert, request_body(cast.police))
    assert created["from"] == str(cast.customs.agency.id)
    assert created["to"] == str(cast.police.agency.id)
    assert created["state"] == "open"
    assert created["replied_at"] is None
    assert "message" not in created
    path = f"/v1/requests/{created['id']}"

    for party in (cast.customs, cast.police):
        read = await client.get(path, headers=party.reading())
        assert read.status_code == 200, read.text
        assert read.json()["message"] == MESSAGE
        assert read.json()["reply"] is None

    by_sender = await client.post(
        f"{path}/reply",
        json={"outcome": "answered", "message": REPLY},
        headers=cast.customs.headers,
    )
    assert_problem(by_sender, 403, "not-addressee")

    replied = await client.post(
        f"{path}/reply", json={"outcome": "answered", "message": REPLY}, headers=cast.police.headers
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["state"] == "answered"
    assert replied.json()["replied_at"] is not None

    again = await client.post(
        f"{path}/reply", json={"outcome": "declined", "message": "no"}, headers=cast.police.headers
    )
    assert_problem(again, 409, "already-replied")

    read = (await client.get(path, headers=cast.customs.reading())).json()
    assert read["state"] == "answered"
    assert read["reply"]["outcome"] == "answered"
    assert read["reply"]["message"] == REPLY


async def test_a_third_agency_gets_404_for_a_request_it_is_not_party_to_and_is_recorded(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    created = await ask(client, cast.customs, alert, request_body(cast.police))
    path = f"/v1/requests/{created['id']}"

    assert_problem(await client.get(path, headers=cast.third.reading()), 404, "not-found")
    reply = {"outcome": "answered", "message": REPLY}
    assert_problem(
        await client.post(f"{path}/reply", json=reply, headers=cast.third.headers), 404, "not-found"
    )
    # An unknown id reads the same.
    unknown = await client.get(f"/v1/requests/{uuid.uuid4()}", headers=cast.third.reading())
    assert (
        unknown.json()["detail"]
        == (await client.get(path, headers=cast.third.reading())).json()["detail"]
    )

    denied = [
        entry
        for entry in stored_entries(app)
        if entry["action"] == "access.denied" and entry["agency"] == str(cast.third.agency.id)
    ]
    assert [entry["resource_ids"] for entry in denied][:2] == [[created["id"]], [created["id"]]]
    assert stored_row(app, created["id"])["outcome"] is None


async def test_reading_needs_a_purpose(client: httpx.AsyncClient, cast: Cast, alert: str) -> None:
    created = await ask(client, cast.customs, alert, request_body(cast.police))
    response = await client.get(f"/v1/requests/{created['id']}", headers=cast.police.headers)
    assert_problem(response, 400, "purpose-required")


async def test_an_addressee_that_cannot_see_the_alert_is_422(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast
) -> None:
    police_only = await push(
        client,
        cast.police,
        alert_body(distribution={"scope": "kinds", "kinds": ["law_enforcement"]}),
    )
    for addressee in (cast.customs, cast.industry):
        response = await client.post(
            f"/v1/alerts/{police_only}/requests",
            json=request_body(addressee, kind="information"),
            headers=cast.police.headers,
        )
        problem = assert_problem(response, 422, "addressee-cannot-see-alert")
        assert problem["errors"] == [{"loc": ["body", "to"], "msg": "cannot see this alert"}]
    assert stored_requests(app) == 0
    # The same alert may be the subject of a request to an agency that sees it.
    await ask(client, cast.police, police_only, request_body(cast.third, kind="information"))


async def test_judicial_use_goes_to_the_reporting_agency_only(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    response = await client.post(
        f"/v1/alerts/{alert}/requests",
        json=request_body(cast.third, kind="judicial_use"),
        headers=cast.customs.headers,
    )
    problem = assert_problem(response, 422, "validation-error")
    assert [issue["loc"] for issue in problem["errors"]] == [["body", "to"]]
    assert stored_requests(app) == 0
    created = await ask(client, cast.customs, alert, request_body(cast.police, kind="judicial_use"))
    assert created["kind"] == "judicial_use"


async def test_the_sender_must_see_the_alert(
    client: httpx.AsyncClient, cast: Cast, app: FastAPI
) -> None:
    # Kept to one agency: the customs cannot see it.
    private = await push(
        client,
        cast.police,
        minimal_body(distribution={"scope": "agencies", "agencies": [str(cast.third.agency.id)]}),
    )
    response = await client.post(
        f"/v1/alerts/{private}/requests",
        json=request_body(cast.police),
        headers=cast.customs.headers,
    )
    assert_problem(response, 404, "not-found")
    missing = await client.post(
        f"/v1/alerts/{uuid.uuid4()}/requests",
        json=request_body(cast.police),
        headers=cast.customs.headers,
    )
    assert_problem(missing, 404, "not-found")
    assert stored_requests(app) == 0


async def test_raw_rows_hold_no_message_and_lists_no_message_and_each_box_is_its_own(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    to_police = await ask(client, cast.customs, alert, request_body(cast.police))
    to_customs = await ask(
        client, cast.police, alert, request_body(cast.customs, kind="information")
    )
    reply = {"outcome": "declined", "message": REPLY}
    replied = await client.post(
        f"/v1/requests/{to_police['id']}/reply", json=reply, headers=cast.police.headers
    )
    assert replied.status_code == 200, replied.text

    for request_id in (to_police["id"], to_customs["id"]):
        row = stored_row(app, request_id)
        raw = repr(row).encode()
        for text in (MESSAGE, REPLY, MESSAGE[:20], REPLY[:20]):
            assert text.encode() not in raw
        assert row["sealed_message"] is not None
    assert stored_row(app, to_police["id"])["sealed_reply"] is not None

    police_inbox = await box(client, cast.police)
    police_outbox = await box(client, cast.police, box="outbox")
    customs_inbox = await box(client, cast.customs, box="inbox")
    customs_outbox = await box(client, cast.customs, box="outbox")
    assert [item["id"] for item in police_inbox] == [to_police["id"]]
    assert [item["id"] for item in police_outbox] == [to_customs["id"]]
    assert [item["id"] for item in customs_inbox] == [to_customs["id"]]
    assert [item["id"] for item in customs_outbox] == [to_police["id"]]
    assert await box(client, cast.third) == []
    assert await box(client, cast.third, box="outbox") == []
    for item in police_inbox + police_outbox + customs_inbox + customs_outbox:
        assert "message" not in item
        assert "reply" not in item
    assert police_inbox[0]["state"] == "declined"


async def test_lists_filter_and_page(client: httpx.AsyncClient, cast: Cast, alert: str) -> None:
    other_alert = await push(client, cast.police, minimal_body())
    made = [
        await ask(client, cast.customs, alert, request_body(cast.police, kind="backtracking")),
        await ask(client, cast.customs, alert, request_body(cast.police, kind="information")),
        await ask(client, cast.customs, other_alert, request_body(cast.police, kind="information")),
    ]
    ids = [item["id"] for item in made]

    assert [i["id"] for i in await box(client, cast.police, kind="information")] == ids[:0:-1]
    assert [i["id"] for i in await box(client, cast.police, alert_id=other_alert)] == [ids[2]]
    assert [i["id"] for i in await box(client, cast.police, state="open")] == ids[::-1]
    assert await box(client, cast.police, state="answered") == []

    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        response = await client.get("/v1/requests", params=params, headers=cast.police.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        assert 'rel="next"' in response.headers["link"]
        params = {"limit": "2", "cursor": page["next_cursor"]}
    assert seen == ids[::-1]

    for bad in ({"box": "spam"}, {"state": "lost"}, {"kind": "x"}, {"alert": alert}):
        response = await client.get("/v1/requests", params=bad, headers=cast.police.headers)
        assert response.status_code == 400, response.text


async def test_every_step_is_audited(
    app: FastAPI, client: httpx.AsyncClient, cast: Cast, alert: str
) -> None:
    created = await ask(client, cast.customs, alert, request_body(cast.police))
    request_id = created["id"]
    await box(client, cast.police)
    reply = {"outcome": "answered", "message": REPLY}
    path = f"/v1/requests/{request_id}"
    assert (await client.post(f"{path}/reply", json=reply, headers=cast.police.headers)).is_success
    assert (await client.get(path, headers=cast.customs.reading())).is_success

    entries = [e for e in stored_entries(app) if e["action"].startswith("request.")]
    assert [
        (e["action"], e["agency"], e["resource_ids"], e["result_count"], e["fields"], e["purpose"])
        for e in entries
    ] == [
        ("request.create", str(cast.customs.agency.id), [request_id, alert], None, [], None),
        ("request.list", str(cast.police.agency.id), [request_id], 1, [], None),
        ("request.reply", str(cast.police.agency.id), [request_id, alert], None, [], None),
        (
            "request.read",
            str(cast.customs.agency.id),
            [request_id, alert],
            None,
            ["message", "reply"],
            PURPOSE["X-Purpose"],
        ),
    ]
    for entry in stored_entries(app):
        assert MESSAGE not in repr(entry)
        assert REPLY not in repr(entry)


async def test_scopes_and_tokens_on_every_request_endpoint(
    client: httpx.AsyncClient, registry: Registry, cast: Cast, alert: str
) -> None:
    created = await ask(client, cast.customs, alert, request_body(cast.police))
    reader = await open_desk(registry, client, scopes="alerts:read")
    writer = await open_desk(registry, client, scopes="alerts:write")
    calls = [
        ("POST", f"/v1/alerts/{alert}/requests", request_body(cast.police), reader),
        ("GET", "/v1/requests", None, writer),
        ("GET", f"/v1/requests/{created['id']}", None, writer),
        (
            "POST",
            f"/v1/requests/{created['id']}/reply",
            {"outcome": "answered", "message": "x"},
            reader,
        ),
    ]
    for method, path, body, lacking in calls:
        anonymous = await client.request(method, path, json=body, headers=PURPOSE)
        assert_problem(anonymous, 401, "missing-token")
        unscoped = await client.request(method, path, json=body, headers=lacking.reading())
        assert_problem(unscoped, 403, "insufficient-scope")
