"""A process killed (SIGKILL) in the middle of a write leaves neither a change without its entry
nor an entry without its change, nor a broken chain — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlmodel import Session, col, select

from exchange_api.models.agencies import Agency
from tests.audit.conftest import append, stored_entries
from tests.audit.processes import REPO, served, service_env, verify_with_cli
from tests.auth_helpers import Registry

# Registers an agency and appends its audit entry under the chain-head lock, says so, and waits
# to be killed before it can commit.
HALF_WRITTEN = """
import sys, time
from exchange_api.agencies import service
from exchange_api.agencies.schemas import AgencyCreate
from exchange_api.app import create_app
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder

app = create_app()
with app.state.session_factory() as session:
    recorder = AuditRecorder(
        app.state.audit_log, session, request_id="killed", source_ip=None,
        identity=lambda: AuditIdentity(actor="admin"),
    )
    agency = service.register_agency(
        session, AgencyCreate(name=sys.argv[1], country="NL", kind="customs"), recorder
    )
    recorder.flush()
    print("appended", flush=True)
    time.sleep(300)
    session.commit()
"""


def agency_names(app: FastAPI) -> dict[str, str]:
    with Session(app.state.engine) as session:
        rows = session.exec(select(col(Agency.name), col(Agency.id)))
        return {name: str(agency_id) for name, agency_id in rows}


def test_killed_between_append_and_commit(app: FastAPI, database_url: str, keys_dir: Path) -> None:
    append(app, 5)
    before = stored_entries(app)
    env = service_env(database_url, keys_dir)
    name = f"Half-written {uuid.uuid4().hex[:6]}"
    writer = subprocess.Popen(
        [sys.executable, "-c", HALF_WRITTEN, name],
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "appended"

    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    writer.stdout.close()

    assert name not in agency_names(app)
    assert stored_entries(app) == before
    append(app, 2)  # the chain head is free again and the chain goes on from where it was
    after = stored_entries(app)
    assert [entry["seq"] for entry in after] == list(range(1, len(before) + 3))
    assert after[len(before)]["prev_hash"] == before[-1]["hash"]
    status, report, summary = verify_with_cli(env)
    assert status == 0, summary
    assert report["last_seq"] == len(before) + 2


async def test_a_server_killed_under_load_loses_no_record_and_keeps_the_chain(
    app: FastAPI, registry: Registry, database_url: str, keys_dir: Path
) -> None:
    operator = await registry.agency(
        kind="regulatory", scopes="alerts:read alerts:write audit:read network:admin clients:admin"
    )
    env = service_env(database_url, keys_dir)
    sent: set[str] = set()
    answered: set[str] = set()
    enough_answered = asyncio.Event()

    with served(env, workers=1) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            headers = await operator.headers(http, officer="EU-ADMIN-9")

            async def register_agencies() -> None:
                while True:
                    name = f"Agency {uuid.uuid4().hex[:10]}"
                    sent.add(name)
                    body = {"name": name, "country": "BE", "kind": "customs"}
                    try:
                        response = await http.post("/v1/admin/agencies", json=body, headers=headers)
                    except httpx.TransportError:
                        return
                    assert response.status_code == 201, response.text
                    answered.add(name)
                    if len(answered) >= 40:
                        enough_answered.set()

            writers = [asyncio.create_task(register_agencies()) for _ in range(8)]
            await enough_answered.wait()
            # Eight requests are in flight: the kill lands in the middle of writes.
            os.killpg(server.process.pid, signal.SIGKILL)
            await asyncio.gather(*writers)

    registered = {name: agency_id for name, agency_id in agency_names(app).items() if name in sent}
    recorded = {
        resource_id
        for entry in stored_entries(app)
        if entry["action"] == "admin.agency.create"
        for resource_id in entry["resource_ids"]
    }
    assert answered <= set(registered)
    assert set(registered.values()) == recorded
    status, report, summary = verify_with_cli(env)
    assert status == 0, summary
    entries = stored_entries(app)
    assert [entry["seq"] for entry in entries] == list(range(1, len(entries) + 1))
    assert report["last_seq"] == len(entries)
