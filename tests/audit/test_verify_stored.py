"""Verification of the log in the database, cut into ranges: the verdict at every seam is the
entry-by-entry walk's, on SQLite (which walks entry by entry) and PostgreSQL (which checks the
ranges fast and walks only what a range could not vouch for).

The log is written straight into the tables — 30 entries with unicode, quotes, control
characters and nulls, checkpoints at seq 10 and 21 — so that ranges of 10 put seams between
10 and 11 and between 20 and 21.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlmodel import SQLModel

from exchange_api.audit import range_check, verification
from exchange_api.audit.appender import AuditEvent, AuditLog
from exchange_api.audit.chain import (
    ENTRY_FIELDS,
    AuditAction,
    Outcome,
    compute_hash,
    parse_audit_time,
    seal_entry,
)
from exchange_api.audit.checkpoints import key_id, sign_checkpoint
from exchange_api.audit.range_check import RangeReadError, RangeTask, check_range
from exchange_api.audit.verification import verify_stored_log
from exchange_api.audit.verify import VerificationReport
from exchange_api.config import Settings
from exchange_api.crypto import load_key_material
from exchange_api.db import create_db_engine, make_session_factory
from exchange_api.models.audit import AuditCheckpointRecord, AuditEntryRecord
from tests.audit.builders import make_entry, rehash
from tests.audit.conftest import drop_audit_triggers

ENTRIES = 30
CHECKPOINTED = (10, 21)
ENTRY_TABLE = SQLModel.metadata.tables[AuditEntryRecord.__tablename__]
CHECKPOINT_TABLE = SQLModel.metadata.tables[AuditCheckpointRecord.__tablename__]

Lines = list[dict[str, Any]]


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


def _row(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "at": parse_audit_time(entry["at"])}


def _store(engine: Engine, settings: Settings, lines: Lines) -> None:
    """``lines`` as entries, the head on the last one, checkpoints at :data:`CHECKPOINTED`."""
    signing_key = load_key_material(settings.keys_dir).audit_signing_key
    with engine.begin() as connection:
        connection.execute(ENTRY_TABLE.insert(), [_row(line) for line in lines])
        for seq in CHECKPOINTED:
            checkpoint = sign_checkpoint(
                signing_key,
                log_id=settings.audit_log,
                seq=seq,
                hash_hex=lines[seq - 1]["hash"],
                at=lines[seq - 1]["at"],
            )
            connection.execute(CHECKPOINT_TABLE.insert(), _row(dict(checkpoint.as_dict())))
        connection.execute(
            text("UPDATE audit_chain_head SET seq = :seq, hash = :hash"),
            {"seq": lines[-1]["seq"], "hash": lines[-1]["hash"]},
        )


def _verify(
    engine: Engine, settings: Settings, range_size: int | None, workers: int = 1
) -> VerificationReport:
    public_key = load_key_material(settings.keys_dir).audit_signing_key.public_key()
    return verify_stored_log(
        engine,
        {key_id(public_key): public_key},
        log_id=settings.audit_log,
        range_size=range_size,
        workers=workers,
    )


def _rewrite(connection: Connection, line: dict[str, Any]) -> None:
    statement = ENTRY_TABLE.update().where(ENTRY_TABLE.c.seq == line["seq"])
    connection.execute(statement.values(_row(line)))


def _edit(seq: int) -> Callable[[Connection, Lines], None]:
    def edit(connection: Connection, lines: Lines) -> None:
        connection.execute(
            text("UPDATE audit_entries SET actor = 'x' WHERE seq = :seq"), {"seq": seq}
        )

    return edit


def _edit_and_rehash(seq: int) -> Callable[[Connection, Lines], None]:
    """Edit ``seq`` and make it self-consistent again: the next entry no longer links to it."""

    def edit_and_rehash(connection: Connection, lines: Lines) -> None:
        lines[seq - 1]["purpose"] = "routine"
        _rewrite(connection, rehash(lines, seq - 1, seq)[seq - 1])

    return edit_and_rehash


def _delete(*seqs: int) -> Callable[[Connection, Lines], None]:
    def delete(connection: Connection, lines: Lines) -> None:
        for seq in seqs:
            connection.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": seq})

    return delete


def _rebase(connection: Connection, lines: Lines) -> None:
    """Chain everything onto another start, consistently."""
    lines[0]["prev_hash"] = "11" * 32
    body = {name: lines[0][name] for name in ENTRY_FIELDS}
    lines[0]["hash"] = compute_hash(bytes.fromhex("11" * 32), body).hex()
    for line in rehash(lines, 1):
        _rewrite(connection, line)


def _float_hashed_the_json_way(seq: int) -> Callable[[Connection, Lines], None]:
    """A float in a list, hashed over what json.dumps makes of it: not canonical JSON."""

    def float_in_a_list(connection: Connection, lines: Lines) -> None:
        line = {**lines[seq - 1], "resource_ids": [1.5]}
        body = {name: line[name] for name in ENTRY_FIELDS}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        prev = bytes.fromhex(line["prev_hash"])
        line["hash"] = hashlib.sha256(prev + canonical.encode()).hexdigest()
        _rewrite(connection, line)

    return float_in_a_list


def _relink(seq: int) -> Callable[[Connection, Lines], None]:
    """Point ``seq``'s prev_hash elsewhere, leaving its hash: it no longer recomputes."""

    def relink(connection: Connection, lines: Lines) -> None:
        connection.execute(
            text("UPDATE audit_entries SET prev_hash = :other WHERE seq = :seq"),
            {"other": lines[0]["hash"], "seq": seq},
        )

    return relink


def _uppercase(column: str, seq: int) -> Callable[[Connection, Lines], None]:
    def uppercase(connection: Connection, lines: Lines) -> None:
        connection.execute(
            text(f"UPDATE audit_entries SET {column} = upper({column}) WHERE seq = :seq"),  # noqa: S608
            {"seq": seq},
        )

    return uppercase


TAMPERING: dict[str, tuple[Callable[[Connection, Lines], None], int, str]] = {
    "edit the first entry": (_edit(1), 1, "hash mismatch"),
    "edit the last entry of a range": (_edit(20), 20, "hash mismatch"),
    "edit the first entry of a range": (_edit(11), 11, "hash mismatch"),
    "edit the last entry": (_edit(30), 30, "hash mismatch"),
    "rehash the last entry of a range": (_edit_and_rehash(20), 21, "prev_hash does not link"),
    "rehash the first entry of a range": (_edit_and_rehash(11), 12, "prev_hash does not link"),
    "rehash an entry a checkpoint pins, at the end of a range": (
        _edit_and_rehash(10),
        10,
        "checkpoint does not match chain",
    ),
    "rehash an entry a checkpoint pins, at the start of a range": (
        _edit_and_rehash(21),
        21,
        "checkpoint does not match chain",
    ),
    "gap before a seam": (_delete(10), 10, "gap: seq 10 missing"),
    "gap after a seam": (_delete(11), 11, "gap: seq 11 missing"),
    "gap across a seam": (_delete(20, 21), 20, "gap: seq 20 missing"),
    "a whole range missing": (_delete(*range(11, 21)), 11, "gap: seq 11 missing"),
    "the first entry missing": (_delete(1), 1, "gap: seq 1 missing"),
    "the last entry missing": (_delete(30), 30, "chain head does not match the entries"),
    "rebased": (_rebase, 1, "prev_hash does not link"),
    "a float at a seam": (_float_hashed_the_json_way(11), 11, "entry is not canonical JSON"),
    "prev_hash pointed elsewhere, inside a range": (_relink(26), 26, "hash mismatch"),
    "prev_hash pointed elsewhere, at a seam": (_relink(21), 21, "hash mismatch"),
    "an upper-case hash at a seam": (_uppercase("hash", 20), 20, "malformed entry"),
    "an upper-case prev_hash at a seam": (_uppercase("prev_hash", 11), 11, "malformed entry"),
}


# Honest entries holding what a fast path could get wrong.
ODD_ENTRIES: dict[int, dict[str, Any]] = {
    4: {"actor": "ctl\x01\x1f\x7f\u2028 \\ \\N", "purpose": "tab\there\nnew\rline \x0b \x0c"},
    5: {"purpose": "", "agency": "", "resource_ids": [], "fields": []},
    8: {"result_count": 0, "actor": "\\", "purpose": '"'},
    16: {"at": "2026-11-28T14:03:07.000000Z", "result_count": 2**31 - 1},
    17: {"at": "2026-11-28T14:03:07.100000Z", "purpose": "null"},
}
# A list the database stores with JSON escapes (SQLAlchemy writes it ASCII-only).
ESCAPED_LIST = {"resource_ids": ["Ærø 🔬", 'with "quote"', "back\\slash"]}


def _chain(odd: dict[int, dict[str, Any]] = ODD_ENTRIES) -> Lines:
    lines, prev = [], bytes(32)
    for seq in range(1, ENTRIES + 1):
        lines.append(json.loads(json.dumps(seal_entry(prev, make_entry(seq, **odd.get(seq, {}))))))
        prev = bytes.fromhex(lines[-1]["hash"])
    return lines


@pytest.mark.parametrize(
    ("range_size", "workers"), [(None, 1), (1, 1), (7, 1), (10, 1), (None, 2), (1, 3)]
)
def test_an_honest_log_verifies_in_any_ranges(
    engine: Engine, settings: Settings, range_size: int | None, workers: int
) -> None:
    lines = _chain()
    _store(engine, settings, lines)

    report = _verify(engine, settings, range_size, workers)

    assert report == VerificationReport(
        ok=True,
        entries_checked=ENTRIES,
        checkpoints_checked=len(CHECKPOINTED),
        first_bad_seq=None,
        reason=None,
        last_seq=ENTRIES,
        last_hash=lines[-1]["hash"],
        anchored_seq=CHECKPOINTED[-1],
    )


@pytest.mark.parametrize("tampering", list(TAMPERING), ids=list(TAMPERING))
def test_a_seam_gives_the_verdict_of_the_walk(
    engine: Engine, settings: Settings, tampering: str
) -> None:
    tamper, bad_seq, reason = TAMPERING[tampering]
    lines = _chain()
    _store(engine, settings, lines)
    drop_audit_triggers(engine)
    with engine.begin() as connection:
        tamper(connection, lines)

    reports = [
        _verify(engine, settings, size, workers)
        for size, workers in ((None, 1), (10, 1), (3, 1), (3, 2), (1, 2))
    ]

    assert (reports[0].ok, reports[0].first_bad_seq, reports[0].reason) == (False, bad_seq, reason)
    assert reports[1:] == reports[:1] * 4


@pytest.mark.postgres_only
def test_the_fast_path_takes_every_entry_of_the_chain_above(
    engine: Engine, settings: Settings
) -> None:
    """So the seams above are the fast path's, not the walk's."""
    _store(engine, settings, _chain())

    run = check_range(RangeTask(_uri(engine), 1, ENTRIES, CHECKPOINTED))

    assert run is not None
    assert (run.first_seq, run.last_seq, set(run.hashes)) == (1, ENTRIES, set(CHECKPOINTED))


@pytest.mark.postgres_only
def test_the_fast_path_takes_entries_as_the_appender_writes_them(
    engine: Engine, settings: Settings
) -> None:
    """The appender stores by COPY, lists spelled compactly: the fast path reads that too."""
    log = AuditLog.from_settings(settings, load_key_material(settings.keys_dir))
    events = [
        AuditEvent(
            action=AuditAction.ALERT_SEARCH,
            outcome=Outcome.ALLOWED,
            actor="NL-POL-0042",
            client_id="client-1",
            agency=None,
            token_id=None,
            request_id=f"req-{index}",
            source_ip="192.0.2.1",
            resource_ids=tuple(f"id-{index}-{n}" for n in range(index % 4)),
            result_count=index % 4,
            fields=("parties", "documents") if index % 2 else (),
        )
        for index in range(12)
    ]
    with make_session_factory(engine).begin() as session:
        log.append(session, events)

    run = check_range(RangeTask(_uri(engine), 1, len(events), ()))

    assert run is not None
    assert (run.first_seq, run.last_seq) == (1, len(events))


def test_a_list_stored_with_escapes_is_left_to_the_walk(engine: Engine, settings: Settings) -> None:
    _store(engine, settings, _chain({**ODD_ENTRIES, 13: ESCAPED_LIST}))

    report = _verify(engine, settings, 10)

    assert (report.ok, report.entries_checked) == (True, ENTRIES)
    if engine.dialect.name == "postgresql":
        run = check_range(RangeTask(_uri(engine), 11, 20, CHECKPOINTED))
        assert run is not None
        assert (run.first_seq, run.last_seq) == (11, 12)


def _uri(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgres_only
def test_the_fast_path_forgets_what_it_memoised_and_stays_exact(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _chain()
    _store(engine, settings, lines)
    monkeypatch.setattr(range_check, "_MEMO_SIZE", 3)

    run = check_range(RangeTask(_uri(engine), 1, ENTRIES, ()))

    assert run is not None
    assert (run.last_seq, run.last_hash.hex()) == (ENTRIES, lines[-1]["hash"])


def _die_in_a_worker(task: RangeTask) -> None:
    """A range worker killed (by the out-of-memory killer, say); never this test's process."""
    if multiprocessing.parent_process() is None:
        raise AssertionError(f"range {task.first_seq}-{task.last_seq} checked in the test process")
    os._exit(137)


@pytest.mark.postgres_only
def test_a_worker_that_dies_is_a_read_error_not_a_hang(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(engine, settings, _chain())
    monkeypatch.setattr(verification, "check_range", _die_in_a_worker)

    with pytest.raises(RangeReadError, match="process died"):
        _verify(engine, settings, 5, workers=2)
