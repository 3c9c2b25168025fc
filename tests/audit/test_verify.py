"""verify_chain against honest and tampered chains, cross-checked by the independent verifier.

The tampering is what someone with write access to the entries table can do: edit, delete,
insert, reorder, cut off and re-extend entries, recompute any hash (the rule is public), and
forge or replay checkpoints (without the signing key). Each case names the first bad seq.
"""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange_api.audit.chain import GENESIS_HASH, seal_entry
from exchange_api.audit.checkpoints import (
    Checkpoint,
    key_id,
    public_jwks,
    sign_checkpoint,
)
from exchange_api.audit.verify import (
    MalformedExportError,
    VerificationReport,
    VerifiedRun,
    hash_from_hex,
    iter_ndjson,
    verify_chain,
)
from tests.audit.builders import build_chain, iter_chain, make_entry, rehash, to_ndjson
from tests.audit.independent_verifier import verify_export

LOG_ID = "test-log"
# Built once (sealing is the slow part); every test copies before tampering.
_CHAIN = build_chain(25)
_KEY = Ed25519PrivateKey.generate()
_OTHER_KEY = Ed25519PrivateKey.generate()
_KEYS: dict[str, Ed25519PublicKey] = {key_id(_KEY.public_key()): _KEY.public_key()}

Lines = list[dict[str, Any]]


def checkpoint_at(
    lines: Lines, seq: int, *, key: Ed25519PrivateKey = _KEY, log_id: str = LOG_ID
) -> Checkpoint:
    line = next(line for line in lines if line["seq"] == seq)
    return sign_checkpoint(key, log_id=log_id, seq=seq, hash_hex=line["hash"], at=line["at"])


def honest() -> tuple[Lines, list[Checkpoint]]:
    lines = [dict(line) for line in _CHAIN]
    return lines, [checkpoint_at(lines, 10), checkpoint_at(lines, 20)]


def verify_both(lines: Lines, checkpoints: list[Checkpoint]) -> VerificationReport:
    """verify_chain on the NDJSON export, after checking the independent verifier agrees."""
    export = to_ndjson(lines)
    report = verify_chain(iter_ndjson(io.BytesIO(export)), checkpoints, _KEYS, log_id=LOG_ID)
    outsider = verify_export(
        export, [c.as_dict() for c in checkpoints], public_jwks([_KEY.public_key()])
    )
    assert outsider.ok == report.ok, outsider.problem
    if report.ok:
        assert outsider.head_hash == report.last_hash
    return report


# --- honest chains ---------------------------------------------------------------------------


def test_an_honest_chain_verifies() -> None:
    lines, checkpoints = honest()

    report = verify_both(lines, checkpoints)

    assert report == VerificationReport(
        ok=True,
        entries_checked=25,
        checkpoints_checked=2,
        first_bad_seq=None,
        reason=None,
        last_seq=25,
        last_hash=lines[-1]["hash"],
        anchored_seq=20,
    )


def test_without_checkpoints_nothing_is_anchored() -> None:
    lines, _ = honest()

    report = verify_both(lines, [])

    assert report.ok
    assert report.anchored_seq is None
    assert report.checkpoints_checked == 0


def test_an_empty_log_verifies_and_a_checkpoint_at_seq_0_pins_it() -> None:
    empty = sign_checkpoint(_KEY, log_id=LOG_ID, seq=0, hash_hex="00" * 32, at=_CHAIN[0]["at"])

    report = verify_both([], [empty])

    assert report.ok
    assert (report.last_seq, report.last_hash, report.anchored_seq) == (0, "00" * 32, 0)


def test_verification_resumes_from_a_previous_report() -> None:
    lines, checkpoints = honest()
    head = verify_chain(lines[:12], checkpoints[:1], _KEYS)

    tail = verify_chain(
        lines[12:],
        [*checkpoints, checkpoint_at(lines, 12)],
        _KEYS,
        start_seq=head.last_seq + 1,
        start_prev_hash=bytes.fromhex(head.last_hash),
    )

    assert head.ok
    assert tail.ok
    assert (tail.entries_checked, tail.last_seq, tail.last_hash) == (13, 25, lines[-1]["hash"])
    # seq 10 lies before this export: its signature is checked, it pins nothing here.
    assert (tail.checkpoints_checked, tail.anchored_seq) == (2, 20)


def test_a_wrong_starting_hash_does_not_link() -> None:
    lines, _ = honest()

    report = verify_chain(lines[12:], [], _KEYS, start_seq=13, start_prev_hash=bytes(32))

    assert (report.ok, report.first_bad_seq, report.reason) == (
        False,
        13,
        "prev_hash does not link",
    )
    assert (report.entries_checked, report.last_seq) == (0, 12)


def test_a_checkpoint_on_the_starting_hash_is_checked() -> None:
    lines, _ = honest()

    report = verify_chain(
        lines[12:], [checkpoint_at(lines, 11)], _KEYS, start_seq=12, start_prev_hash=bytes(32)
    )

    assert (report.first_bad_seq, report.reason) == (11, "checkpoint does not match chain")


def test_an_export_that_starts_later_is_not_the_whole_log() -> None:
    lines, _ = honest()

    report = verify_chain(lines[12:], [], _KEYS)

    assert (report.first_bad_seq, report.reason) == (1, "gap: seq 1 missing")


@pytest.mark.parametrize(
    ("start_seq", "start_prev_hash"), [(0, GENESIS_HASH), (1, bytes(31)), (1, b"")]
)
def test_verify_chain_refuses_an_impossible_start(start_seq: int, start_prev_hash: bytes) -> None:
    with pytest.raises(ValueError, match="start"):
        verify_chain([], [], _KEYS, start_seq=start_seq, start_prev_hash=start_prev_hash)


# --- tampering -------------------------------------------------------------------------------


def _edit(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["actor"] = "someone-else"
    return lines, checkpoints


def _edit_and_rehash_it(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["resource_ids"] = []
    return rehash(lines, 6, 7), checkpoints


def _edit_and_rehash_the_rest(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["purpose"] = "routine"
    return rehash(lines, 6), checkpoints


def _delete(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    del lines[6]
    return lines, checkpoints


def _delete_renumber_rehash(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    del lines[6]
    for line in lines[6:]:
        line["seq"] -= 1
    return rehash(lines, 6), checkpoints


def _insert(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    ghost = seal_entry(bytes.fromhex(lines[6]["hash"]), make_entry(8, actor="ghost"))
    lines.insert(7, json.loads(json.dumps(ghost)))
    return lines, checkpoints


def _insert_renumber_rehash(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines.insert(7, json.loads(json.dumps(seal_entry(GENESIS_HASH, make_entry(8)))))
    for line in lines[8:]:
        line["seq"] += 1
    return rehash(lines, 7), checkpoints


def _swap(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6], lines[7] = lines[7], lines[6]
    return lines, checkpoints


def _swap_contents(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    kept = ("seq", "prev_hash", "hash")
    first, second = lines[6], lines[7]
    lines[6] = {**second, **{name: first[name] for name in kept}}
    lines[7] = {**first, **{name: second[name] for name in kept}}
    return lines, checkpoints


def _truncate(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    return lines[:15], checkpoints


def _truncate_then_extend(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    kept, prev = lines[:15], bytes.fromhex(lines[14]["hash"])
    for seq in range(16, 29):
        line = seal_entry(prev, make_entry(seq, actor="rewritten"))
        kept.append(json.loads(json.dumps(line)))
        prev = bytes.fromhex(line["hash"])
    return kept, checkpoints


def _drop_first(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    return lines[1:], checkpoints


def _rebase(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[0]["prev_hash"] = "11" * 32
    body = {k: v for k, v in lines[0].items() if k not in ("prev_hash", "hash")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    lines[0]["hash"] = hashlib.sha256(bytes.fromhex("11" * 32) + canonical.encode()).hexdigest()
    return rehash(lines, 1), checkpoints


def _forge_checkpoint_hash(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    return lines, [replace(checkpoints[0], hash=lines[8]["hash"]), checkpoints[1]]


def _rewrite_and_forge_checkpoints(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["actor"] = "rewritten"
    lines = rehash(lines, 6)
    return lines, [replace(c, hash=lines[c.seq - 1]["hash"]) for c in checkpoints]


def _sign_with_another_key_under_our_kid(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    forged = replace(checkpoint_at(lines, 10, key=_OTHER_KEY), kid=checkpoints[0].kid)
    return lines, [forged, checkpoints[1]]


def _sign_with_an_unknown_key(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    return lines, [checkpoint_at(lines, 10, key=_OTHER_KEY), checkpoints[1]]


def _checkpoint_at_the_wrong_hash(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    wrong = sign_checkpoint(
        _KEY, log_id=LOG_ID, seq=10, hash_hex=lines[8]["hash"], at=lines[9]["at"]
    )
    return lines, [wrong, checkpoints[1]]


def _forged_checkpoint_past_the_end(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    genuine = checkpoint_at(lines, 25)
    return lines, [*checkpoints, replace(genuine, seq=30)]


def _uppercase_hash(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["hash"] = lines[6]["hash"].upper()
    return lines, checkpoints


def _missing_prev_hash(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    del lines[6]["prev_hash"]
    return lines, checkpoints


def _seq_as_text(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["seq"] = "7"
    return lines, checkpoints


def _float_hashed_the_json_way(lines: Lines, checkpoints: list[Checkpoint]) -> Any:
    lines[6]["result_count"] = 1.5
    body = {k: v for k, v in lines[6].items() if k not in ("prev_hash", "hash")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev = bytes.fromhex(lines[6]["prev_hash"])
    lines[6]["hash"] = hashlib.sha256(prev + canonical.encode()).hexdigest()
    return lines, checkpoints


TAMPERING: list[tuple[Callable[[Lines, list[Checkpoint]], Any], int, str]] = [
    (_edit, 7, "hash mismatch"),
    # The entry is self-consistent again; the next one still vouches for the original.
    (_edit_and_rehash_it, 8, "prev_hash does not link"),
    # A consistent rewrite: only the first checkpoint at or after it can tell.
    (_edit_and_rehash_the_rest, 10, "checkpoint does not match chain"),
    (_delete, 7, "gap: seq 7 missing"),
    (_delete_renumber_rehash, 10, "checkpoint does not match chain"),
    (_insert, 8, "seq out of order"),
    (_insert_renumber_rehash, 10, "checkpoint does not match chain"),
    (_swap, 7, "gap: seq 7 missing"),
    (_swap_contents, 7, "hash mismatch"),
    (_truncate, 16, "truncated before checkpoint at seq 20"),
    (_truncate_then_extend, 20, "checkpoint does not match chain"),
    (_drop_first, 1, "gap: seq 1 missing"),
    (_rebase, 1, "prev_hash does not link"),
    (_forge_checkpoint_hash, 10, "checkpoint signature invalid"),
    (_rewrite_and_forge_checkpoints, 10, "checkpoint signature invalid"),
    (_sign_with_another_key_under_our_kid, 10, "checkpoint signature invalid"),
    (_sign_with_an_unknown_key, 10, "checkpoint key unknown"),
    (_checkpoint_at_the_wrong_hash, 10, "checkpoint does not match chain"),
    (_forged_checkpoint_past_the_end, 30, "checkpoint signature invalid"),
    (_uppercase_hash, 7, "malformed entry"),
    (_missing_prev_hash, 7, "malformed entry"),
    (_seq_as_text, 7, "malformed entry"),
    (_float_hashed_the_json_way, 7, "malformed export: line 7: non-integer number '1.5'"),
]


@pytest.mark.parametrize(
    ("tamper", "first_bad_seq", "reason"),
    TAMPERING,
    ids=[tamper.__name__.strip("_") for tamper, _, _ in TAMPERING],
)
def test_tampering_is_detected_and_named(
    tamper: Callable[[Lines, list[Checkpoint]], Any], first_bad_seq: int, reason: str
) -> None:
    lines, checkpoints = tamper(*honest())

    report = verify_both(lines, checkpoints)

    assert (report.ok, report.first_bad_seq, report.reason) == (False, first_bad_seq, reason)
    assert report.last_seq == report.entries_checked <= first_bad_seq


def test_a_float_given_as_a_value_is_not_canonical() -> None:
    lines, checkpoints = _float_hashed_the_json_way(*honest())

    report = verify_chain(lines, checkpoints, _KEYS)

    assert (report.first_bad_seq, report.reason) == (7, "entry is not canonical JSON")


def test_a_checkpoint_of_another_log_is_refused_when_the_log_is_named() -> None:
    lines, checkpoints = honest()
    foreign = [checkpoint_at(lines, 10, log_id="other-log"), checkpoints[1]]

    named = verify_chain(lines, foreign, _KEYS, log_id=LOG_ID)
    unnamed = verify_chain(lines, foreign, _KEYS)

    assert (named.first_bad_seq, named.reason) == (10, "checkpoint belongs to another log")
    assert unnamed.ok


# --- stretches verified elsewhere ------------------------------------------------------------


def run_of(rows: Lines, first_seq: int, checkpoint_seqs: set[int]) -> VerifiedRun | None:
    """What an honest range checker reports for ``rows`` (its range's rows, in seq order): the
    longest prefix that verifies with the first ``prev_hash`` taken as given."""
    given = hash_from_hex(rows[0].get("prev_hash")) if rows else None
    if given is None:
        return None
    alone = verify_chain(rows, [], {}, start_seq=first_seq, start_prev_hash=given)
    if alone.last_seq < first_seq:
        return None
    covered = [row for row in rows if row["seq"] <= alone.last_seq]
    return VerifiedRun(
        first_seq=first_seq,
        last_seq=alone.last_seq,
        prev_hash=given,
        last_hash=bytes.fromhex(alone.last_hash),
        hashes={
            row["seq"]: bytes.fromhex(row["hash"])
            for row in covered
            if row["seq"] in checkpoint_seqs
        },
    )


def in_ranges(
    lines: Lines, checkpoints: list[Checkpoint], size: int
) -> Iterator[dict[str, Any] | VerifiedRun]:
    """``lines`` as the database verification feeds them: per range of ``size`` seqs, the run a
    checker vouches for, then the range's other rows one by one."""
    checkpoint_seqs = {checkpoint.seq for checkpoint in checkpoints}
    for first in range(1, max(line["seq"] for line in lines) + 1, size):
        rows = [line for line in lines if first <= line["seq"] < first + size]
        run = run_of(rows, first, checkpoint_seqs)
        if run is not None:
            yield run
        yield from (row for row in rows if run is None or row["seq"] > run.last_seq)


def _as_stored(tamper: Callable[[Lines, list[Checkpoint]], Any]) -> bool:
    """Whether a database could hold the tampered lines as given: integer seqs, increasing."""
    lines, _ = tamper(*honest())
    seqs = [line.get("seq") for line in lines]
    return all(type(seq) is int for seq in seqs) and seqs == sorted(set(seqs))


STORABLE = [case for case in TAMPERING if _as_stored(case[0])]


@pytest.mark.parametrize("size", [1, 2, 3, 6, 7, 10, 11, 25])
def test_runs_verify_an_honest_chain_as_its_lines_do(size: int) -> None:
    lines, checkpoints = honest()

    report = verify_chain(in_ranges(lines, checkpoints, size), checkpoints, _KEYS, log_id=LOG_ID)

    assert report == verify_chain(lines, checkpoints, _KEYS, log_id=LOG_ID)
    assert report.ok


@pytest.mark.parametrize("size", [1, 2, 3, 6, 7, 10, 11, 25])
@pytest.mark.parametrize(
    ("tamper", "first_bad_seq", "reason"),
    STORABLE,
    ids=[tamper.__name__.strip("_") for tamper, _, _ in STORABLE],
)
def test_runs_name_what_the_lines_name(
    tamper: Callable[[Lines, list[Checkpoint]], Any], first_bad_seq: int, reason: str, size: int
) -> None:
    """Every seam between ranges, wherever the tampering falls, gives the entry-by-entry verdict."""
    lines, checkpoints = tamper(*honest())

    report = verify_chain(in_ranges(lines, checkpoints, size), checkpoints, _KEYS, log_id=LOG_ID)

    assert report == verify_chain(lines, checkpoints, _KEYS, log_id=LOG_ID)
    assert not report.ok


def test_a_run_past_a_gap_is_named_at_the_gap() -> None:
    lines, checkpoints = honest()
    run = run_of(lines[10:], 11, {20})

    report = verify_chain([*lines[:8], run], checkpoints, _KEYS)

    assert (report.first_bad_seq, report.reason, report.last_seq) == (9, "gap: seq 9 missing", 8)


def test_a_checkpoint_inside_a_run_is_met_at_its_seq() -> None:
    lines, checkpoints = honest()
    forged = replace(checkpoints[1], hash=lines[18]["hash"])
    run = run_of(lines, 1, {10, 20})

    report = verify_chain([run], [checkpoints[0], forged], _KEYS)

    assert (report.first_bad_seq, report.reason) == (20, "checkpoint signature invalid")
    assert (report.entries_checked, report.checkpoints_checked, report.anchored_seq) == (20, 1, 10)


# --- streaming -------------------------------------------------------------------------------


def test_verify_chain_reads_lazily_and_stops_at_the_first_bad_entry() -> None:
    consumed = 0

    def endless() -> Iterator[dict[str, Any]]:
        nonlocal consumed
        for line in iter_chain(10**9):
            consumed += 1
            if line["seq"] == 300:
                line["actor"] = "edited"
            yield line

    report = verify_chain(endless(), [], _KEYS)

    assert (report.first_bad_seq, report.reason, consumed) == (300, "hash mismatch", 300)


def test_verify_chain_holds_one_entry_at_a_time() -> None:
    count = 3000
    tracemalloc.start()
    try:
        report = verify_chain(iter_chain(count), [], _KEYS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.ok
    assert report.entries_checked == count
    # The entries alone take several megabytes; streaming needs a few kilobytes.
    assert peak < 512 * 1024


# --- reading an export -----------------------------------------------------------------------


def test_iter_ndjson_reads_bytes_and_text_alike() -> None:
    lines, _ = honest()
    export = to_ndjson(lines)

    from_bytes = list(iter_ndjson(io.BytesIO(export)))
    from_text = list(iter_ndjson(io.StringIO(export.decode())))

    assert from_bytes == from_text == lines


def test_iter_ndjson_skips_empty_lines_and_accepts_crlf() -> None:
    export = b'\n{"seq": 1}\r\n\n{"seq": 2}'

    assert list(iter_ndjson(io.BytesIO(export))) == [{"seq": 1}, {"seq": 2}]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"seq": 1, "seq": 2}', "duplicate key"),
        (b'{"seq": 1, "x": {"a": 1, "a": 2}}', "duplicate key"),
        (b'{"seq": 1.0}', "non-integer number"),
        (b'{"seq": 1e3}', "non-integer number"),
        (b'{"seq": NaN}', "non-integer number"),
        (b'{"seq": -Infinity}', "non-integer number"),
        (b"[1, 2]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b'{"seq": 1', "Expecting"),
        (b" ", "Expecting value"),
        (b'{"actor": "\xff"}', "utf-8"),
        (b'\xef\xbb\xbf{"seq": 1}', "Expecting value"),
        (b"[" * 100_000, "recursion"),
    ],
    ids=repr,
)
def test_iter_ndjson_refuses_a_malformed_line(line: bytes, message: str) -> None:
    export = b'{"seq": 1}\n' + line + b"\n"
    reader = iter_ndjson(io.BytesIO(export))

    assert next(reader) == {"seq": 1}
    with pytest.raises(MalformedExportError, match=f"line 2: .*{message}"):
        next(reader)


def test_a_malformed_line_is_reported_with_the_seq_it_should_have_had() -> None:
    lines, checkpoints = honest()
    export = to_ndjson(lines[:4]) + b'{"seq": 5, "seq": 5}\n' + to_ndjson(lines[5:])

    report = verify_chain(iter_ndjson(io.BytesIO(export)), checkpoints, _KEYS)

    assert (report.ok, report.first_bad_seq, report.last_seq) == (False, 5, 4)
    assert report.reason == "malformed export: line 5: duplicate key"
