"""Every alert action leaves its audit record: ids returned or touched, counts, field groups
decrypted, the stated purpose — and a refused look at a hidden alert names that alert."""

from __future__ import annotations

from typing import Any

import httpx

from tests.alerts.builders import CONTAINER, NARRATIVE, alert_body, minimal_body
from tests.alerts.http import PURPOSE, Desk, open_desk, push
from tests.auth_helpers import Registry


async def _entries(
    client: httpx.AsyncClient, auditor: Desk, **filters: str
) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit/events", params=filters, headers=auditor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_alert_actions_are_audited(registry: Registry, client: httpx.AsyncClient) -> None:
    police = await open_desk(registry, client)
    regulator = await open_desk(registry, client, "regulatory")
    industry = await open_desk(registry, client, "industry")
    auditor = await open_desk(registry, client, "law_enforcement", scopes="audit:read")

    alert_id = await push(client, police, alert_body())
    other = await push(
        client, police, minimal_body(documents=[{"kind": "container", "number": CONTAINER}])
    )
    batch = await client.post(
        "/v1/alerts/batch", json={"alerts": [minimal_body(), {}]}, headers=police.headers
    )
    batch_id = batch.json()["results"][0]["id"]
    await client.get(f"/v1/alerts/{alert_id}", headers=regulator.reading())
    await client.get("/v1/alerts", params={"document": CONTAINER}, headers=regulator.reading())
    await client.patch(
        f"/v1/alerts/{alert_id}",
        json={"status": "backtracking", "narrative": "changed"},
        headers={
            **police.headers,
            "Content-Type": "application/merge-patch+json",
            "If-Match": '"v1"',
        },
    )
    await client.get(f"/v1/alerts/{alert_id}/history", headers=regulator.headers)
    await client.get(f"/v1/alerts/{alert_id}/links", headers=regulator.reading())
    await client.get(f"/v1/alerts/{alert_id}", headers=industry.reading())

    def one(entries: list[dict[str, Any]], action: str) -> dict[str, Any]:
        matching = [entry for entry in entries if entry["action"] == action]
        assert len(matching) == 1, entries
        return matching[0]

    about_alert = await _entries(client, auditor, alert_id=alert_id)
    created = one(about_alert, "alert.create")
    assert created["agency"] == str(police.agency.id)
    read = one(about_alert, "alert.read")
    assert (read["fields"], read["purpose"], read["outcome"]) == (
        ["parties", "documents"],
        PURPOSE["X-Purpose"],
        "allowed",
    )
    search = one(about_alert, "alert.search")
    assert (sorted(search["resource_ids"]), search["result_count"]) == (
        sorted([alert_id, other]),
        2,
    )
    assert search["purpose"] == PURPOSE["X-Purpose"]
    assert one(about_alert, "alert.update")["fields"] == ["status", "narrative"]
    assert one(about_alert, "alert.history")["result_count"] == 2
    links = one(about_alert, "alert.links")
    assert (links["resource_ids"], links["fields"]) == ([alert_id, other], ["documents"])
    denied = one(about_alert, "access.denied")
    assert (denied["outcome"], denied["agency"]) == ("denied", str(industry.agency.id))
    # The refused look keeps the reason it was made.
    assert denied["purpose"] == PURPOSE["X-Purpose"]

    batch_entry = one(await _entries(client, auditor, alert_id=batch_id), "alert.create")
    assert (batch_entry["resource_ids"], batch_entry["result_count"]) == ([batch_id], 1)

    log = (
        await client.get("/v1/audit/events", params={"limit": 200}, headers=auditor.headers)
    ).text
    assert NARRATIVE not in log
    assert CONTAINER not in log


async def test_an_idempotent_replay_is_recorded_as_a_replay_not_a_second_creation(
    registry: Registry, client: httpx.AsyncClient
) -> None:
    police = await open_desk(registry, client)
    auditor = await open_desk(registry, client, "law_enforcement", scopes="audit:read")
    keyed = {**police.headers, "Idempotency-Key": "nl-push-2026-0042"}
    first = await client.post("/v1/alerts", json=minimal_body(), headers=keyed)
    again = await client.post("/v1/alerts", json=minimal_body(), headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    alert_id = first.json()["id"]
    assert again.json()["id"] == alert_id

    entries = await _entries(client, auditor, alert_id=alert_id)
    actions = [entry["action"] for entry in entries]
    assert actions == ["alert.create", "alert.create.replay"]
    creation, replay = entries
    assert replay["resource_ids"] == [alert_id]
    assert replay["client_id"] == creation["client_id"] is not None
    assert replay["request_id"] != creation["request_id"]
