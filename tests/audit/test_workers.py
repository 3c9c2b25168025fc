"""Two uvicorn worker processes on one PostgreSQL, dozens of concurrent clients reading and
writing: afterwards the chain verifies (the real CLI) and ``seq`` has no gap."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.alerts.builders import alert_body
from tests.audit.conftest import stored_entries
from tests.audit.processes import served, service_env, verify_with_cli
from tests.auth_helpers import Registry, TestAgency

pytestmark = pytest.mark.postgres_only

OFFICERS = 40
ROUNDS = 5
KINDS = ["law_enforcement", "customs", "regulatory", "prosecution"]


async def work_as_officer(http: httpx.AsyncClient, agency: TestAgency, number: int) -> list[str]:
    """Report alerts, search, read them with a purpose, and look at the log: every call audited."""
    officer = f"OFFICER-{number:03d}"
    headers = await agency.headers(http, officer=officer)
    reading = {**headers, "X-Purpose": f"case {number}"}
    created: list[str] = []
    for _ in range(ROUNDS):
        response = await http.post("/v1/alerts", json=alert_body(), headers=headers)
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
        read = await http.get(f"/v1/alerts/{created[-1]}", headers=reading)
        assert read.status_code == 200, read.text
        found = await http.get("/v1/alerts", params={"limit": "20"}, headers=headers)
        assert found.status_code == 200, found.text
        mine = await http.get("/v1/audit/events", params={"actor": officer}, headers=headers)
        assert mine.status_code == 200, mine.text
    return created


async def test_two_workers_keep_one_gapless_verifiable_chain(
    app: FastAPI, registry: Registry, database_url: str, keys_dir: Path
) -> None:
    scopes = "alerts:read alerts:write audit:read"
    agencies = [await registry.agency(kind=kind, scopes=scopes) for kind in KINDS]
    env = service_env(database_url, keys_dir)

    with served(env, workers=2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            batches = await asyncio.gather(
                *(work_as_officer(http, agencies[n % len(agencies)], n) for n in range(OFFICERS))
            )

    status, report, summary = verify_with_cli(env)
    assert status == 0, summary
    entries = stored_entries(app)
    assert [entry["seq"] for entry in entries] == list(range(1, len(entries) + 1))
    assert report["last_seq"] == len(entries)
    by_actor: dict[str, list[str]] = {}
    for entry in entries:
        by_actor.setdefault(entry["actor"] or "", []).append(entry["action"])
    for number in range(OFFICERS):
        actions = by_actor[f"OFFICER-{number:03d}"]
        assert actions.count("token.issue") == 1
        assert actions.count("audit.read") == ROUNDS
    created = {alert_id for batch in batches for alert_id in batch}
    assert len(created) == OFFICERS * ROUNDS

    def named_by(action: str) -> set[str]:
        return {rid for e in entries if e["action"] == action for rid in e["resource_ids"]}

    assert named_by("alert.create") == created
    assert named_by("alert.read") == created
