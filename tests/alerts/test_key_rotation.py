"""KEK rotation end to end: ``keys rotate``, then ``keys rewrap`` while a server started before
the rotation keeps serving, on SQLite and PostgreSQL.

Each test works on a copy of the keys, so the rotation does not leak into other tests.
"""

from __future__ import annotations

import json
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update
from sqlmodel import SQLModel

from exchange_api.audit.operator import operator_name
from exchange_api.models.alerts import Alert
from tests.alerts.builders import alert_body
from tests.alerts.http import Desk, open_desk, push
from tests.audit.conftest import stored_entries
from tests.auth_helpers import Registry, Serving
from tests.conftest import Cli
from tests.hsm import SOFTHSM_MODULE, Token

ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
SEALED = [column for column in ALERTS.c if column.name.startswith("sealed_")]


@pytest.fixture
def keys_dir(keys_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session's keys (modes kept: the loader refuses open files)."""
    return Path(shutil.copytree(keys_dir, tmp_path / "keys"))


@pytest.fixture
async def police(registry: Registry, client: httpx.AsyncClient) -> Desk:
    return await open_desk(registry, client)


def _stored(engine: Engine) -> dict[str, dict[str, Any]]:
    columns = [ALERTS.c.id, ALERTS.c.kek_version, ALERTS.c.wrapped_dek, *SEALED]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns)).mappings().all()
    return {str(row["id"]): dict(row) for row in rows}


async def _read(client: httpx.AsyncClient, desk: Desk, alert_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/alerts/{alert_id}", headers=desk.reading())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_rotate_then_rewrap_while_a_server_started_before_keeps_serving(
    app: FastAPI, client: httpx.AsyncClient, police: Desk, cli: Cli, engine: Engine, keys_dir: Path
) -> None:
    ids = [await push(client, police, alert_body()) for _ in range(5)]
    before = {alert_id: await _read(client, police, alert_id) for alert_id in ids}
    stored_before = _stored(engine)

    rotated = cli("keys", "rotate")

    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout) == {"kek_version": 2}
    mode = (keys_dir / "kek" / "0002.key").stat().st_mode
    assert stat.S_IMODE(mode) & 0o077 == 0
    assert all(row["kek_version"] == 1 for row in _stored(engine).values())

    rewrapped = cli("keys", "rewrap", "--batch-size", "2")

    assert rewrapped.returncode == 0, rewrapped.stderr
    assert json.loads(rewrapped.stdout) == {
        "kek_version": 2,
        "rewrapped": len(stored_before),
        "failed": [],
        "remaining": {},
    }
    assert "older versions' files can be destroyed" in rewrapped.stderr
    stored_after = _stored(engine)
    for alert_id, row in stored_after.items():
        old = stored_before[alert_id]
        assert row["kek_version"] == 2
        assert row["wrapped_dek"] != old["wrapped_dek"]
        assert [row[column.name] for column in SEALED] == [old[column.name] for column in SEALED]
    # The server loaded version 1 only, at start: it reads version 2 from its file when needed.
    assert {alert_id: await _read(client, police, alert_id) for alert_id in ids} == before
    assert app.state.keyring.current_kek_version == 1

    again = cli("keys", "rewrap")
    assert json.loads(again.stdout)["rewrapped"] == 0

    entries = stored_entries(app)
    rotations = [entry for entry in entries if entry["action"] == "admin.keys.rotate"]
    assert [(e["actor"], e["resource_ids"]) for e in rotations] == [(operator_name(), ["kek:2"])]
    rewraps = [entry for entry in entries if entry["action"] == "admin.keys.rewrap"]
    assert [entry["result_count"] for entry in rewraps] == [2, 2, 1]
    touched = [alert_id for entry in rewraps for alert_id in entry["resource_ids"]]
    assert sorted(touched) == sorted(stored_after) == sorted(ids)
    assert {(entry["actor"], entry["client_id"], entry["source_ip"]) for entry in rewraps} == {
        (operator_name(), None, None)
    }


async def test_a_data_key_that_does_not_authenticate_is_named_and_left(
    client: httpx.AsyncClient, police: Desk, cli: Cli, engine: Engine
) -> None:
    ids = [await push(client, police, alert_body()) for _ in range(3)]
    broken = ids[1]
    blob = bytearray(_stored(engine)[broken]["wrapped_dek"])
    blob[-1] ^= 0x01
    with engine.begin() as connection:
        statement = update(ALERTS).where(ALERTS.c.id == uuid.UUID(broken))
        connection.execute(statement.values(wrapped_dek=bytes(blob)))
    assert cli("keys", "rotate").returncode == 0

    done = cli("keys", "rewrap")

    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == [broken]
    assert report["remaining"] == {"1": 1}
    assert "did not authenticate" in done.stderr
    assert "no KEK file can be destroyed yet" in done.stderr
    assert "can be destroyed once" not in done.stderr
    versions = {alert_id: row["kek_version"] for alert_id, row in _stored(engine).items()}
    assert versions[broken] == 1
    assert [versions[alert_id] for alert_id in ids if alert_id != broken] == [2, 2]
    assert bytes(blob) not in done.stdout.encode() + done.stderr.encode()


def test_rewrap_refuses_a_nonsense_batch_size(cli: Cli) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli("keys", "rewrap", "--batch-size", "0")
    assert exit_.value.code == 2


def test_a_rotation_whose_audit_record_fails_says_the_key_was_written(
    cli: Cli, keys_dir: Path, tmp_path: Path
) -> None:
    unreachable = f"sqlite:///{tmp_path / 'missing' / 'none.db'}"

    done = cli("keys", "rotate", EXCHANGE_DATABASE_URL=unreachable)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "KEK version 2 was written, but its audit record was not" in done.stderr
    assert (keys_dir / "kek" / "0002.key").exists()


async def test_a_rewrap_passes_over_shredded_alerts(
    client: httpx.AsyncClient, police: Desk, cli: Cli
) -> None:
    await push(client, police, alert_body(detected_on="2020-01-10", review_by="2021-01-01"))
    kept = await push(client, police, alert_body())
    assert json.loads(cli("retention", "run").stdout)["shredded"] == 1
    assert cli("keys", "rotate").returncode == 0

    report = json.loads(cli("keys", "rewrap").stdout)

    assert (report["rewrapped"], report["failed"], report["remaining"]) == (1, [], {})
    assert (await client.get(f"/v1/alerts/{kept}", headers=police.reading())).status_code == 200


async def test_file_keks_are_rewrapped_into_a_pkcs11_token_and_served_from_it(
    client: httpx.AsyncClient,
    police: Desk,
    cli: Cli,
    engine: Engine,
    serving: Serving,
    token: Token,
) -> None:
    ids = [await push(client, police, alert_body()) for _ in range(3)]
    before = {alert_id: await _read(client, police, alert_id) for alert_id in ids}

    rotated = cli("keys", "rotate", **token.env())
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout) == {"kek_version": 2}
    assert "created in the PKCS#11 token" in rotated.stderr
    rewrapped = cli("keys", "rewrap", **token.env())
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert json.loads(rewrapped.stdout)["rewrapped"] == 3
    assert {row["kek_version"] for row in _stored(engine).values()} == {2}

    hsm = {
        "keyring": "pkcs11",
        "pkcs11_module": SOFTHSM_MODULE,
        "pkcs11_token_label": token.label,
        "pkcs11_pin_file": token.pin_file,
    }
    async with serving(**hsm) as (http, _registry):
        assert {alert_id: await _read(http, police, alert_id) for alert_id in ids} == before
        new = await push(http, police, alert_body())
        assert _stored(engine)[new]["kek_version"] == 2
        assert (await _read(http, police, new))["id"] == new
