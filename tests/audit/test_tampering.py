"""``exchange-api audit verify``, run as a real process, against a log that a database
administrator changed behind the service's back (triggers dropped first, as they could)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, create_engine, text
from sqlalchemy import insert as insert_into
from sqlmodel import SQLModel

from exchange_api.audit import compute_hash
from exchange_api.audit.chain import ENTRY_FIELDS, parse_audit_time
from exchange_api.models.audit import AuditEntryRecord
from tests.audit.builders import rehash
from tests.audit.conftest import append, drop_audit_triggers, stored_entries
from tests.audit.processes import run_cli, service_env, verify_with_cli

ENTRIES = 30
ENTRY_TABLE = SQLModel.metadata.tables[AuditEntryRecord.__tablename__]
CHECKPOINTED = 20


@pytest.fixture
def cli_env(database_url: str, keys_dir: Path) -> dict[str, str]:
    return service_env(database_url, keys_dir)


@pytest.fixture
def seeded(app: FastAPI) -> list[dict[str, Any]]:
    """30 entries, a checkpoint signed at seq 20."""
    append(app, CHECKPOINTED)
    with app.state.session_factory.begin() as session:
        app.state.audit_log.checkpoint(session)
    append(app, ENTRIES - CHECKPOINTED)
    return stored_entries(app)


def _write_entry(connection: Connection, entry: dict[str, Any], *, insert: bool = False) -> None:
    """Write ``entry`` as a row, through the table's own column types."""
    values = {**entry, "at": parse_audit_time(entry["at"])}
    if insert:
        connection.execute(insert_into(ENTRY_TABLE).values(values))
    else:
        connection.execute(
            ENTRY_TABLE.update().where(ENTRY_TABLE.c.seq == entry["seq"]).values(values)
        )


def _set_head(connection: Connection, entry: dict[str, Any]) -> None:
    connection.execute(
        text("UPDATE audit_chain_head SET seq = :seq, hash = :hash"),
        {"seq": entry["seq"], "hash": entry["hash"]},
    )


def edit_actor(connection: Connection, entries: list[dict[str, Any]]) -> int:
    connection.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 7"))
    return 7


def edit_and_rehash_the_rest(connection: Connection, entries: list[dict[str, Any]]) -> int:
    """Edit seq 12 and recompute every later hash, as anyone with table access can: only the
    checkpoint at seq 20 can tell, and it names itself."""
    entries[11]["purpose"] = "nothing to see"
    forged = rehash(entries, 11)
    for entry in forged[11:]:
        _write_entry(connection, entry)
    _set_head(connection, forged[-1])
    return CHECKPOINTED


def delete_one(connection: Connection, entries: list[dict[str, Any]]) -> int:
    connection.execute(text("DELETE FROM audit_entry_resources WHERE seq = 15"))
    connection.execute(text("DELETE FROM audit_entries WHERE seq = 15"))
    return 15


def delete_the_tail(connection: Connection, entries: list[dict[str, Any]]) -> int:
    connection.execute(text("DELETE FROM audit_entry_resources WHERE seq > 27"))
    connection.execute(text("DELETE FROM audit_entries WHERE seq > 27"))
    return 28


def delete_the_tail_and_move_the_head(connection: Connection, entries: list[dict[str, Any]]) -> int:
    connection.execute(text("DELETE FROM audit_entry_resources WHERE seq > 17"))
    connection.execute(text("DELETE FROM audit_entries WHERE seq > 17"))
    _set_head(connection, entries[16])
    return 18  # the checkpoint at 20 proves 18.. existed


def insert_one(connection: Connection, entries: list[dict[str, Any]]) -> int:
    """Make room at seq 10 and slip in an entry that links to seq 9."""
    for entry in reversed(entries[9:]):
        shifted = {**entry, "seq": entry["seq"] + 1}
        connection.execute(text("DELETE FROM audit_entry_resources WHERE seq = :seq"), entry)
        connection.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), entry)
        _write_entry(connection, shifted, insert=True)
    forged = {**entries[8], "seq": 10, "actor": "ghost", "prev_hash": entries[8]["hash"]}
    body = {name: forged[name] for name in ENTRY_FIELDS}
    forged["hash"] = compute_hash(bytes.fromhex(forged["prev_hash"]), body).hex()
    _write_entry(connection, forged, insert=True)
    _set_head(connection, {**entries[-1], "seq": ENTRIES + 1})
    return 11  # the original seq 10, now 11, no longer links


def append_beyond_the_head(connection: Connection, entries: list[dict[str, Any]]) -> int:
    last = entries[-1]
    forged = {**last, "seq": ENTRIES + 1, "actor": "ghost", "prev_hash": last["hash"]}
    body = {name: forged[name] for name in ENTRY_FIELDS}
    forged["hash"] = compute_hash(bytes.fromhex(last["hash"]), body).hex()
    _write_entry(connection, forged, insert=True)
    return ENTRIES + 1


def swap_two(connection: Connection, entries: list[dict[str, Any]]) -> int:
    first, second = entries[4], entries[8]
    _write_entry(connection, {**second, "seq": 5})
    _write_entry(connection, {**first, "seq": 9})
    return 5


def forge_a_checkpoint(connection: Connection, entries: list[dict[str, Any]]) -> int:
    connection.execute(
        text("UPDATE audit_checkpoints SET hash = :hash WHERE seq = :seq"),
        {"hash": entries[0]["hash"], "seq": CHECKPOINTED},
    )
    return CHECKPOINTED


TAMPERING: dict[str, Callable[[Connection, list[dict[str, Any]]], int]] = {
    "edit": edit_actor,
    "edit and rehash the rest": edit_and_rehash_the_rest,
    "delete": delete_one,
    "delete the tail": delete_the_tail,
    "delete the tail and move the head": delete_the_tail_and_move_the_head,
    "insert": insert_one,
    "append beyond the head": append_beyond_the_head,
    "swap": swap_two,
    "forge a checkpoint": forge_a_checkpoint,
}


def test_an_untouched_log_verifies(seeded: list[dict[str, Any]], cli_env: dict[str, str]) -> None:
    status, report, summary = verify_with_cli(cli_env)

    assert status == 0, summary
    assert report["ok"] is True
    assert report["entries_checked"] == ENTRIES
    assert report["checkpoints_checked"] == 1
    assert report["anchored_seq"] == CHECKPOINTED
    assert report["last_hash"] == seeded[-1]["hash"]
    assert "audit log OK" in summary


@pytest.mark.parametrize("tampering", list(TAMPERING), ids=list(TAMPERING))
def test_verify_names_the_first_entry_tampered_with(
    seeded: list[dict[str, Any]], cli_env: dict[str, str], database_url: str, tampering: str
) -> None:
    engine = create_engine(database_url)
    try:
        drop_audit_triggers(engine)
        with engine.begin() as connection:
            bad_seq = TAMPERING[tampering](connection, [dict(entry) for entry in seeded])
    finally:
        engine.dispose()

    status, report, summary = verify_with_cli(cli_env)

    assert status == 1, summary
    assert report["ok"] is False
    assert report["first_bad_seq"] == bad_seq, report
    assert f"seq {bad_seq}" in summary


async def test_offline_verification_from_an_export_and_the_keys(
    seeded: list[dict[str, Any]],
    client: httpx.AsyncClient,
    auditor: dict[str, str],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    checkpoint = (await client.post("/v1/audit/checkpoints", headers=auditor)).json()
    export = (await client.get("/v1/audit/export", headers=auditor)).content
    keys = (await client.get("/v1/audit/keys", headers=auditor)).json()
    (tmp_path / "audit.ndjson").write_bytes(export)
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    (tmp_path / "checkpoint.json").write_text(json.dumps(checkpoint))
    offline = {
        **cli_env,
        "EXCHANGE_DATABASE_URL": "sqlite:////nonexistent/never-opened.db",
        "EXCHANGE_KEYS_DIR": str(tmp_path / "no-keys-either"),
    }
    args = ["--export", str(tmp_path / "audit.ndjson"), "--keys", str(tmp_path / "keys.json")]

    status, report, summary = verify_with_cli(
        offline, *args, "--checkpoint", str(tmp_path / "checkpoint.json")
    )
    assert status == 0, summary
    assert report["anchored_seq"] == checkpoint["seq"]
    assert report["last_seq"] == len(export.splitlines())

    lines = export.splitlines()
    edited = json.loads(lines[3])
    edited["result_count"] = 99
    lines[3] = json.dumps(edited).encode()
    (tmp_path / "audit.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    status, report, summary = verify_with_cli(offline, *args)
    assert status == 1
    assert report["first_bad_seq"] == 4
    assert report["reason"] == "hash mismatch"

    (tmp_path / "audit.ndjson").write_bytes(b"\n".join(export.splitlines()[10:]) + b"\n")
    status, report, _ = verify_with_cli(offline, *args)
    assert (status, report["first_bad_seq"], report["reason"]) == (1, 1, "gap: seq 1 missing")
    status, report, summary = verify_with_cli(offline, *args, "--from-seq", "11")
    assert status == 0, summary
    assert report["entries_checked"] == len(export.splitlines()) - 10


def test_unusable_inputs_end_with_a_reason(tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "keys.json").write_text('{"keys": [{"kty": "RSA"}]}')
    (tmp_path / "audit.ndjson").write_text("")

    no_keys = verify_with_cli(cli_env, "--export", str(tmp_path / "audit.ndjson"))
    bad_keys = verify_with_cli(
        cli_env, "--export", str(tmp_path / "audit.ndjson"), "--keys", str(tmp_path / "keys.json")
    )

    assert no_keys[0] == 2
    assert "--keys" in no_keys[2]
    assert bad_keys[0] == 2
    assert "key set" in bad_keys[2]


async def test_the_checkpoint_command_signs_the_head(
    app: FastAPI,
    seeded: list[dict[str, Any]],
    cli_env: dict[str, str],
    client: httpx.AsyncClient,
    auditor: dict[str, str],
) -> None:
    head = stored_entries(app)[-1]

    done = run_cli(cli_env, "audit", "checkpoint")

    assert done.returncode == 0, done.stderr
    signed = json.loads(done.stdout)
    assert (signed["seq"], signed["hash"]) == (head["seq"], head["hash"])
    latest = await client.get("/v1/audit/checkpoints/latest", headers=auditor)
    assert latest.json() == signed
