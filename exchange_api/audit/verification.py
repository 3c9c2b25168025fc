"""``exchange-api audit verify``: the whole chain and every checkpoint, from the database or from
an export file, with a summary that names the first bad seq.

From the database, on top of :func:`~exchange_api.audit.verify.verify_chain`:

- the entries are checked from seq 1 up to the chain head as it was when verification began,
  with every checkpoint up to that seq, reading in bounded pieces (constant memory, no long
  lock);
- on PostgreSQL that range is cut into ranges that parallel processes check straight from the
  rows' text (:mod:`.range_check`); each hands back the stretch it verified as a
  :class:`~exchange_api.audit.verify.VerifiedRun`, and whatever a range could not vouch for is
  read again entry by entry. The walk takes the runs over in seq order, checking the seams
  between them and every checkpoint, so the verdict — the first bad seq and its reason — is the
  one the entry-by-entry walk gives (SQLite, and any database whose column types are not the
  expected ones, take that walk throughout);
- the chain head must be the last entry (``chain head does not match the entries``): entries cut
  off the end, with the head left alone, show here even without a later checkpoint;
- nothing may lie beyond the head as it is when verification ends: a checkpoint there proves the
  log was cut short and the head moved back (``truncated before checkpoint at seq N``, named at
  the first missing seq); an entry there was inserted behind the service's back (``entries
  beyond the chain head``).

Offline, from an export and the JWKS of ``GET /v1/audit/keys`` (and any checkpoints saved from
``GET /v1/audit/checkpoints/latest``): an export must start at seq 1 unless ``from_seq`` says
otherwise — then the first line's ``prev_hash`` is taken as given, and only a checkpoint at or
after it anchors the rest. Without any checkpoint a chain is only self-consistent: whoever can
rewrite the table can rewrite a whole suffix; the summary says how far checkpoints pin it.
"""

from __future__ import annotations

import bisect
import itertools
import json
import multiprocessing
from collections.abc import Generator, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit import repository
from exchange_api.audit.chain import GENESIS_HASH, SealedEntry
from exchange_api.audit.checkpoints import (
    Checkpoint,
    InvalidCheckpointError,
    InvalidJWKSError,
    load_public_keys_from_jwks,
)
from exchange_api.audit.range_check import (
    RangeReadError,
    RangeTask,
    check_range,
    fast_check_applies,
)
from exchange_api.audit.verify import (
    MalformedExportError,
    VerificationReport,
    VerifiedRun,
    hash_from_hex,
    iter_ndjson,
    verify_chain,
)
from exchange_api.db import make_session_factory

__all__ = [
    "VerificationInputError",
    "load_checkpoint_files",
    "load_jwks_file",
    "report_document",
    "summary",
    "verify_export_file",
    "verify_stored_log",
]


class VerificationInputError(Exception):
    """A key or checkpoint file cannot be used; the message is one line."""


#: Entries per range at most: what one entry-by-entry fallback may cost, and the pieces shared
#: out so that a worker slowed by the rest of the machine does not hold up the others.
MAX_RANGE: Final = 100_000
#: Each worker holds a database connection of its own.
MAX_WORKERS: Final = 8


def verify_stored_log(
    engine: Engine,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    log_id: str,
    workers: int = 1,
    range_size: int | None = None,
) -> VerificationReport:
    """Verify the log in the database (see the module docstring).

    ``workers`` processes check ranges of ``range_size`` entries at once (by default ranges
    that give each worker a few); with one worker the ranges are checked in this process.
    """
    session_factory = make_session_factory(engine)
    with session_factory() as session:
        head = repository.chain_head(session)
        try:
            checkpoints = repository.all_checkpoints(session, up_to_seq=head.seq)
        except repository.StoredCheckpointInvalid as exc:
            return _broken(exc.seq, "checkpoint row malformed", last_seq=0)
        in_ranges = fast_check_applies(session.connection())
    if in_ranges:
        ranges = _ranges(head.seq, workers, range_size)
        checkpoint_seqs = sorted({checkpoint.seq for checkpoint in checkpoints})
        stream = _checked_in_ranges(engine, session_factory, ranges, checkpoint_seqs, workers)
        with closing(stream) as items:
            report = verify_chain(items, checkpoints, public_keys, log_id=log_id)
    else:
        entries = repository.iter_entries(session_factory, from_seq=1, to_seq=head.seq)
        report = verify_chain(entries, checkpoints, public_keys, log_id=log_id)
    if not report.ok:
        return report
    if (report.last_seq, report.last_hash) != (head.seq, head.hash):
        first_bad = report.last_seq + 1 if report.last_seq < head.seq else head.seq
        return replace(
            report,
            ok=False,
            first_bad_seq=first_bad,
            reason="chain head does not match the entries",
        )
    with session_factory() as session:
        end_seq = repository.chain_head(session).seq
        past = repository.beyond(session, end_seq)
    if past.checkpoint_seq is not None:
        reason = f"truncated before checkpoint at seq {past.checkpoint_seq}"
        return replace(report, ok=False, first_bad_seq=end_seq + 1, reason=reason)
    if past.entry_seq is not None:
        reason = "entries beyond the chain head"
        return replace(report, ok=False, first_bad_seq=past.entry_seq, reason=reason)
    return report


def _ranges(head_seq: int, workers: int, range_size: int | None) -> list[tuple[int, int]]:
    """``1..head_seq`` cut into consecutive ``(first, last)`` ranges."""
    if range_size is None:
        range_size = min(MAX_RANGE, max(1, -(-head_seq // (4 * max(workers, 1)))))
    return [
        (first, min(first + range_size - 1, head_seq))
        for first in range(1, head_seq + 1, range_size)
    ]


def _checked_in_ranges(
    engine: Engine,
    session_factory: sessionmaker[Session],
    ranges: Sequence[tuple[int, int]],
    checkpoint_seqs: Sequence[int],
    workers: int,
) -> Generator[SealedEntry | VerifiedRun, None, None]:
    """The entries of ``ranges`` in seq order: each range's verified run, then its other rows.

    Rows a run does not cover are read one by one for :func:`verify_chain` to judge: the one
    that ended the run and the rest of its range (which the run's end says nothing about).
    """
    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    tasks = [
        RangeTask(uri, first, last, _between(checkpoint_seqs, first, last))
        for first, last in ranges
    ]
    with closing(_run_in_order(tasks, workers)) as runs:
        for task, run in zip(tasks, runs, strict=True):
            next_seq = task.first_seq
            if run is not None:
                yield run
                next_seq = run.last_seq + 1
            if next_seq <= task.last_seq:
                yield from repository.iter_entries(
                    session_factory, from_seq=next_seq, to_seq=task.last_seq
                )


def _between(seqs: Sequence[int], first: int, last: int) -> tuple[int, ...]:
    """The seqs from ``first`` to ``last`` of the sorted ``seqs``."""
    return tuple(seqs[bisect.bisect_left(seqs, first) : bisect.bisect_right(seqs, last)])


def _run_in_order(
    tasks: Sequence[RangeTask], workers: int
) -> Generator[VerifiedRun | None, None, None]:
    """:func:`check_range` of every task, in order, by up to ``workers`` processes.

    Forked, not spawned: a worker needs only modules this process has imported, and a spawned
    one would import the whole command again. Each opens its own connection and never touches
    the ones inherited from this process.

    An executor, not a ``multiprocessing.Pool``: the walk often stops before the last range (at
    a tampered entry), and ``Pool.terminate`` kills workers that may hold the result queue's
    lock, after which the pool waits on that lock for ever (seen under load, in CI). Shutting
    the executor down cancels the ranges not yet begun and lets the running ones finish (each
    at most ``MAX_RANGE`` entries). A worker that dies (the out-of-memory killer, say) is a
    :class:`RangeReadError`, where a pool would wait for its result for ever.
    """
    workers = min(workers, MAX_WORKERS, len(tasks))
    if workers <= 1:
        yield from map(check_range, tasks)
        return
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield from executor.map(check_range, tasks)
    except BrokenProcessPool:
        raise RangeReadError("a verification process died before checking its range") from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _broken(seq: int, reason: str, *, last_seq: int) -> VerificationReport:
    """A verdict reached before any entry was checked."""
    return VerificationReport(
        ok=False,
        entries_checked=0,
        checkpoints_checked=0,
        first_bad_seq=seq,
        reason=reason,
        last_seq=last_seq,
        last_hash=GENESIS_HASH.hex(),
        anchored_seq=None,
    )


def load_jwks_file(path: Path) -> dict[str, Ed25519PublicKey]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise InvalidJWKSError("not a JSON object")
        return load_public_keys_from_jwks(document)
    except (OSError, ValueError) as exc:
        raise VerificationInputError(f"cannot use the key set {path}: {exc}") from None


def load_checkpoint_files(paths: Sequence[Path]) -> list[Checkpoint]:
    """Checkpoints from files, each holding one checkpoint object or a list of them."""
    checkpoints: list[Checkpoint] = []
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            items = document if isinstance(document, list) else [document]
            if not all(isinstance(item, dict) for item in items):
                raise InvalidCheckpointError("a checkpoint is a JSON object")
            checkpoints.extend(Checkpoint.from_dict(item) for item in items)
        except (OSError, ValueError) as exc:
            raise VerificationInputError(f"cannot use the checkpoint file {path}: {exc}") from None
    return checkpoints


def verify_export_file(
    export: Path,
    public_keys: Mapping[str, Ed25519PublicKey],
    checkpoints: Iterable[Checkpoint],
    *,
    from_seq: int = 1,
    log_id: str | None = None,
) -> VerificationReport:
    """Verify an NDJSON export offline (see the module docstring)."""
    try:
        stream = export.open("rb")
    except OSError as exc:
        raise VerificationInputError(f"cannot read the export {export}: {exc}") from None
    with stream:
        lines = iter_ndjson(stream)
        start_prev_hash = GENESIS_HASH
        if from_seq > 1:
            try:
                first = next(lines, None)
            except MalformedExportError:
                first = None
            given_prev_hash = None if first is None else hash_from_hex(first.get("prev_hash"))
            if first is None or given_prev_hash is None:
                return _broken(from_seq, "malformed entry", last_seq=from_seq - 1)
            start_prev_hash = given_prev_hash
            lines = itertools.chain([first], lines)
        return verify_chain(
            lines,
            checkpoints,
            public_keys,
            start_prev_hash=start_prev_hash,
            start_seq=from_seq,
            log_id=log_id,
        )


def report_document(report: VerificationReport) -> dict[str, object]:
    """The report as one JSON object (the command's stdout)."""
    return {
        "ok": report.ok,
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "first_bad_seq": report.first_bad_seq,
        "reason": report.reason,
        "last_seq": report.last_seq,
        "last_hash": report.last_hash,
        "anchored_seq": report.anchored_seq,
    }


def _checkpoints(count: int) -> str:
    return f"{count} checkpoint" if count == 1 else f"{count} checkpoints"


def summary(report: VerificationReport) -> str:
    """A few lines for people: the verdict first, then how far checkpoints pin the chain."""
    if not report.ok:
        return (
            f"AUDIT LOG INVALID: first bad entry is seq {report.first_bad_seq} "
            f"({report.reason}); {report.entries_checked} entries before it verified."
        )
    anchored = (
        "no checkpoint pins it: it is only self-consistent"
        if report.anchored_seq is None
        else f"signed checkpoints pin it up to seq {report.anchored_seq}"
    )
    unpinned = (
        ""
        if report.anchored_seq is None or report.anchored_seq >= report.last_seq
        else f" (entries after seq {report.anchored_seq} are only self-consistent)"
    )
    return (
        f"audit log OK: {report.entries_checked} entries up to seq {report.last_seq} and "
        f"{_checkpoints(report.checkpoints_checked)} verified; {anchored}{unpinned}.\n"
        f"head hash {report.last_hash}"
    )
