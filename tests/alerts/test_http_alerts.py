"""The alert endpoints over HTTP with real tokens: create, read, change, history, links."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlmodel import col

from exchange_api.models.alerts import Alert
from tests.alerts.builders import CONTAINER, NARRATIVE, alert_body, minimal_body
from tests.alerts.http import Desk, assert_problem, open_desk, push
from tests.auth_helpers import Registry

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
async def police(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client, "law_enforcement", "NL")


async def test_push_then_read_with_purpose(client: httpx.AsyncClient, police: Desk) -> None:
    body = alert_body(substances=[{"cas": "103-79-7"}, {"cas": "50-00-0"}])
    created = await client.post("/v1/alerts", json=body, headers=police.headers)
    assert created.status_code == 201, created.text
    receipt = created.json()
    alert_id = receipt["id"]
    assert uuid.UUID(alert_id).version == 7
    assert created.headers["location"] == f"/v1/alerts/{alert_id}"
    assert created.headers["etag"] == '"v1"'
    assert [(s["cas"], s["scheduled"]) for s in receipt["substances"]] == [
        ("103-79-7", True),
        ("50-00-0", False),  # valid CAS, not in the catalogue: accepted, flagged
    ]
    assert NARRATIVE not in created.text  # the receipt echoes no sensitive field
    assert receipt["review_by"] == "2029-11-20"

    read = await client.get(f"/v1/alerts/{alert_id}", headers=police.reading())
    assert read.status_code == 200, read.text
    assert read.headers["etag"] == '"v1"'
    alert = read.json()
    assert alert["narrative"] == NARRATIVE
    assert alert["documents"][0]["number"] == CONTAINER
    assert alert["withheld"] == []
    assert alert["reporting_agency"] == str(police.agency.id)
    assert alert["created_at"].endswith("Z")
    assert alert["handling"]["meaning"].startswith("Not to be disseminated")


async def test_reading_needs_a_purpose(client: httpx.AsyncClient, police: Desk) -> None:
    alert_id = await push(client, police, alert_body())
    response = await client.get(f"/v1/alerts/{alert_id}", headers=police.headers)
    assert_problem(response, 400, "purpose-required")
    too_long = {**police.headers, "X-Purpose": "x" * 201}
    assert_problem(
        await client.get(f"/v1/alerts/{alert_id}", headers=too_long), 400, "invalid-parameter"
    )


async def test_a_regulator_gets_no_persons_narrative_reference_or_contact(
    registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    regulator = await open_desk(registry, client, "regulatory")
    alert_id = await push(client, police, alert_body())
    response = await client.get(f"/v1/alerts/{alert_id}", headers=regulator.reading())
    alert = response.json()
    withheld = ["persons", "narrative", "reference", "contact"]
    assert alert["withheld"] == withheld
    assert not set(withheld) & set(alert)  # absent, not null
    assert alert["parties"]
    assert alert["documents"]
    assert NARRATIVE not in response.text


async def test_an_invisible_alert_is_404_everywhere_like_a_missing_one(
    registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    industry = await open_desk(registry, client, "industry")
    hidden = await push(client, police, alert_body())
    missing = str(uuid.uuid4())
    for alert_id in (hidden, missing):
        answers = [
            await client.get(f"/v1/alerts/{alert_id}", headers=industry.reading()),
            await client.get(f"/v1/alerts/{alert_id}/history", headers=industry.headers),
            await client.get(f"/v1/alerts/{alert_id}/links", headers=industry.reading()),
            await client.patch(
                f"/v1/alerts/{alert_id}",
                json={"status": "closed_unfounded"},
                headers={**industry.headers, **MERGE_PATCH, "If-Match": '"v1"'},
            ),
        ]
        for response in answers:
            body = assert_problem(response, 404, "not-found")
            assert alert_id not in response.text
            assert body["detail"] == "No alert with this id is visible to the caller."
    listed = await client.get("/v1/alerts", headers=industry.headers)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_tokens_and_scopes_are_required(
    registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    alert_id = await push(client, police, alert_body())
    reader = await open_desk(registry, client, scopes="alerts:read")
    writer = await open_desk(registry, client, scopes="alerts:write")
    anonymous = [
        await client.get("/v1/alerts"),
        await client.post("/v1/alerts", json=alert_body()),
        await client.post("/v1/alerts/batch", json={"alerts": [alert_body()]}),
        await client.get(f"/v1/alerts/{alert_id}", headers={"X-Purpose": "case"}),
        await client.patch(
            f"/v1/alerts/{alert_id}", json={}, headers={**MERGE_PATCH, "If-Match": '"v1"'}
        ),
        await client.get(f"/v1/alerts/{alert_id}/history"),
        await client.get(f"/v1/alerts/{alert_id}/links", headers={"X-Purpose": "case"}),
    ]
    for response in anonymous:
        assert_problem(response, 401, "missing-token")
        assert "www-authenticate" in response.headers
    refused = [
        await client.post("/v1/alerts", json=alert_body(), headers=reader.headers),
        await client.post(
            "/v1/alerts/batch", json={"alerts": [alert_body()]}, headers=reader.headers
        ),
        await client.patch(
            f"/v1/alerts/{alert_id}",
            json={},
            headers={**reader.headers, **MERGE_PATCH, "If-Match": '"v1"'},
        ),
        await client.get("/v1/alerts", headers=writer.headers),
        await client.get(f"/v1/alerts/{alert_id}", headers=writer.reading()),
        await client.get(f"/v1/alerts/{alert_id}/history", headers=writer.headers),
        await client.get(f"/v1/alerts/{alert_id}/links", headers=writer.reading()),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
    assert (await client.get("/v1/alerts", headers=reader.headers)).json()["items"]


async def test_changing_an_alert(
    registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    alert_id = await push(client, police, alert_body())
    url = f"/v1/alerts/{alert_id}"
    patch = {"status": "under_investigation", "narrative": "Second consignment found."}

    assert_problem(
        await client.patch(url, json=patch, headers={**police.headers, **MERGE_PATCH}),
        428,
        "precondition-required",
    )
    wrong_type = {**police.headers, "Content-Type": "text/plain", "If-Match": '"v1"'}
    response = await client.patch(url, content=b'{"status": "open"}', headers=wrong_type)
    assert_problem(response, 415, "unsupported-media-type")
    assert response.headers["accept-patch"] == "application/merge-patch+json"

    changed = await client.patch(
        url, json=patch, headers={**police.headers, **MERGE_PATCH, "If-Match": '"v1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert changed.json()["version"] == 2

    stale = await client.patch(
        url, json={"status": "open"}, headers={**police.headers, **MERGE_PATCH, "If-Match": '"v1"'}
    )
    assert_problem(stale, 412, "precondition-failed")
    assert stale.headers["etag"] == '"v2"'

    as_json = {**police.headers, "Content-Type": "application/json", "If-Match": '"v2"'}
    assert (
        await client.patch(url, json={"status": "backtracking"}, headers=as_json)
    ).status_code == 200

    customs = await open_desk(registry, client, "customs")
    not_theirs = await client.patch(
        url, json={"status": "open"}, headers={**customs.headers, **MERGE_PATCH, "If-Match": '"v3"'}
    )
    assert_problem(not_theirs, 403, "not-owner")

    history = (await client.get(f"{url}/history", headers=customs.headers)).json()
    assert history["next_cursor"] is None
    assert [v["version"] for v in history["items"]] == [1, 2, 3]
    assert history["items"][1]["changes"] == [
        {"field": "status", "old": "open", "new": "under_investigation"},
        {"field": "narrative"},
    ]
    assert "Second consignment" not in str(history)


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"reporting_agency": str(uuid.uuid4())}, ["body", "reporting_agency"]),
        ({"version": 9}, ["body", "version"]),
        ({"id": str(uuid.uuid4())}, ["body", "id"]),
        ({"route": {"origin": "XQ"}}, ["body", "route", "origin"]),
        ({"substances": [{"cas": "103-79-8"}]}, ["body", "substances", 0, "cas"]),
    ],
)
async def test_a_bad_change_is_422_and_changes_nothing(
    client: httpx.AsyncClient, police: Desk, patch: dict[str, object], loc: list[object]
) -> None:
    alert_id = await push(client, police, alert_body())
    response = await client.patch(
        f"/v1/alerts/{alert_id}",
        json=patch,
        headers={**police.headers, **MERGE_PATCH, "If-Match": '"v1"'},
    )
    body = assert_problem(response, 422, "validation-error")
    assert loc in [issue["loc"] for issue in body["errors"]]
    read = await client.get(f"/v1/alerts/{alert_id}", headers=police.reading())
    assert read.headers["etag"] == '"v1"'


async def test_idempotent_create(
    registry: Registry, client: httpx.AsyncClient, police: Desk
) -> None:
    keyed = {**police.headers, "Idempotency-Key": "nl-push-2026-0001"}
    first = await client.post("/v1/alerts", json=alert_body(), headers=keyed)
    again = await client.post("/v1/alerts", json=alert_body(), headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    other = await client.post(
        "/v1/alerts", json=alert_body(status="closed_confirmed"), headers=keyed
    )
    assert_problem(other, 409, "idempotency-key-reused")
    listed = await client.get("/v1/alerts", headers=police.headers)
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]
    bad_key = {**police.headers, "Idempotency-Key": "with space"}
    assert_problem(
        await client.post("/v1/alerts", json=alert_body(), headers=bad_key),
        400,
        "invalid-parameter",
    )


async def test_idempotent_batch(client: httpx.AsyncClient, police: Desk) -> None:
    keyed = {**police.headers, "Idempotency-Key": "nl-push-file-0001-batch-0"}
    batch = {"alerts": [minimal_body(), minimal_body(route={"origin": "XQ"})]}
    first = await client.post("/v1/alerts/batch", json=batch, headers=keyed)
    again = await client.post("/v1/alerts/batch", json=batch, headers=keyed)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post("/v1/alerts/batch", json={"alerts": [minimal_body()]}, headers=keyed)
    assert_problem(other, 409, "idempotency-key-reused")
    listed = await client.get("/v1/alerts", headers=police.headers)
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["results"][0]["id"]]


async def test_batch(client: httpx.AsyncClient, police: Desk) -> None:
    items = [minimal_body(), minimal_body(route={"origin": "XQ"}), alert_body(), 42]
    response = await client.post("/v1/alerts/batch", json={"alerts": items}, headers=police.headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [sorted(r) for r in results] == [
        ["id", "index"],
        ["error", "index"],
        ["id", "index"],
        ["error", "index"],
    ]
    assert results[1]["error"]["errors"][0]["loc"] == ["body", "alerts", 1, "route", "origin"]
    assert results[3]["error"]["errors"][0]["loc"] == ["body", "alerts", 3]

    too_many = await client.post(
        "/v1/alerts/batch", json={"alerts": [minimal_body()] * 501}, headers=police.headers
    )
    body = assert_problem(too_many, 422, "validation-error")
    assert body["errors"][0]["loc"] == ["body", "alerts"]
    listed = await client.get("/v1/alerts", headers=police.headers)
    assert len(listed.json()["items"]) == 2  # the refused batch wrote nothing


async def test_links_over_http(registry: Registry, client: httpx.AsyncClient, police: Desk) -> None:
    regulator = await open_desk(registry, client, "regulatory")
    first = await push(client, police, alert_body())
    second = await push(
        client, police, minimal_body(documents=[{"kind": "container", "number": CONTAINER}])
    )
    response = await client.get(f"/v1/alerts/{first}/links", headers=regulator.headers)
    assert_problem(response, 400, "purpose-required")
    links = (await client.get(f"/v1/alerts/{first}/links", headers=regulator.reading())).json()
    assert links == {
        "items": [{"id": second, "shared": [{"field": "document.number", "value": CONTAINER}]}],
        "common": [],
        "next_cursor": None,
    }


async def test_a_tampered_field_is_a_500_problem_never_garbage(
    app: FastAPI, client: httpx.AsyncClient, police: Desk
) -> None:
    alert_id = uuid.UUID(await push(client, police, alert_body()))
    with app.state.engine.begin() as connection:
        sealed = bytearray(
            connection.execute(
                select(col(Alert.sealed_narrative)).where(col(Alert.id) == alert_id)
            ).scalar_one()
        )
        sealed[-1] ^= 0x80
        connection.execute(
            update(Alert).where(col(Alert.id) == alert_id).values(sealed_narrative=bytes(sealed))
        )
    response = await client.get(f"/v1/alerts/{alert_id}", headers=police.reading())
    body = assert_problem(response, 500, "integrity-failure")
    assert body["detail"] == "A stored field could not be decrypted."
    assert NARRATIVE not in response.text
