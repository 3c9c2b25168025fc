"""What the log holds about alerts: who saw which alert, when and why — and never the content."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.alerts.builders import CONTAINER, EXPORTER_ID, SENSITIVE_VALUES, alert_body
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry

PURPOSE = "case file 77/2026"


async def test_an_alerts_life_leaves_records_without_its_content(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry, auditor: dict[str, str]
) -> None:
    police = await registry.agency(kind="law_enforcement")
    regulator = await registry.agency(kind="regulatory")
    police_headers = await police.headers(client, officer="NL-POL-0001")
    regulator_headers = await regulator.headers(client, officer="NL-ILT-0002")
    reading = {**regulator_headers, "X-Purpose": PURPOSE}
    created = await client.post("/v1/alerts", json=alert_body(), headers=police_headers)
    alert_id = created.json()["id"]

    calls = [
        client.get(f"/v1/alerts/{alert_id}", headers=reading),
        client.get("/v1/alerts", params={"document": CONTAINER}, headers=reading),
        client.get("/v1/alerts", params={"party": EXPORTER_ID}, headers=reading),
        client.get(f"/v1/alerts/{alert_id}/links", headers=reading),
        client.get(f"/v1/alerts/{alert_id}/history", headers=reading),
        client.patch(
            f"/v1/alerts/{alert_id}",
            json={"narrative": "rewritten narrative 4411", "status": "backtracking"},
            headers={
                **police_headers,
                "Content-Type": "application/merge-patch+json",
                "If-Match": '"v1"',
            },
        ),
    ]
    for call in calls:
        assert (await call).status_code == 200

    export = await client.get("/v1/audit/export", headers=auditor)
    for value in (*SENSITIVE_VALUES, "rewritten narrative 4411"):
        assert value.encode() not in export.content
        assert json.dumps(value)[1:-1].encode() not in export.content
    about_it = [e for e in stored_entries(app) if alert_id in e["resource_ids"]]
    assert [(e["action"], e["actor"]) for e in about_it] == [
        ("alert.create", "NL-POL-0001"),
        ("alert.read", "NL-ILT-0002"),
        ("alert.search", "NL-ILT-0002"),
        ("alert.search", "NL-ILT-0002"),
        ("alert.links", "NL-ILT-0002"),
        ("alert.history", "NL-ILT-0002"),
        ("alert.update", "NL-POL-0001"),
    ]
    read = about_it[1]
    assert read["purpose"] == PURPOSE
    assert read["fields"]  # the groups decrypted for a regulator, by name
    assert "persons" not in read["fields"]  # a regulator is not shown natural persons


async def test_a_look_at_a_hidden_alert_is_recorded_as_denied_naming_it(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    police = await registry.agency(kind="law_enforcement")
    company = await registry.agency(kind="industry")
    created = await client.post(
        "/v1/alerts", json=alert_body(), headers=await police.headers(client)
    )
    alert_id = created.json()["id"]
    company_headers = await company.headers(client, officer="ACME-COMPLIANCE-1")

    response = await client.get(
        f"/v1/alerts/{alert_id}", headers={**company_headers, "X-Purpose": PURPOSE}
    )

    assert response.status_code == 404
    denied = stored_entries(app)[-1]
    assert denied["action"] == "access.denied"
    assert denied["outcome"] == "denied"
    assert denied["resource_ids"] == [alert_id]
    assert (denied["actor"], denied["agency"]) == ("ACME-COMPLIANCE-1", str(company.id))
    assert denied["request_id"] == response.headers["x-request-id"]
