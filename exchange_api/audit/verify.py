"""Offline verification of the audit chain and its signed checkpoints (docs/contract.md §6).

:func:`verify_chain` streams: it holds one entry at a time (plus the checkpoints, which are few),
so it checks a million-entry export read lazily by :func:`iter_ndjson` in constant memory. It
reads the entries in order and stops at the first thing that does not verify:

- each line must carry an integer ``seq`` and both hashes as 64 lower-case hex digits
  (``malformed entry``); a line :func:`iter_ndjson` cannot read is ``malformed export: …``;
- ``seq`` must start at ``start_seq`` and grow by exactly one: a jump means entries were deleted
  (``gap: seq N missing``), a repeat or a step back means one was inserted or moved
  (``seq out of order``, naming the seq that appears twice);
- each ``hash`` must recompute from the entry and its ``prev_hash`` (``hash mismatch``: the entry
  was edited; ``entry is not canonical JSON``: it holds a float or another value outside the
  contract), and each ``prev_hash`` must be the previous entry's hash (``prev_hash does not
  link``, named at the later entry: the one before was rewritten after this one was sealed, or
  this one was inserted);
- every checkpoint must name a key in ``public_keys`` (``checkpoint key unknown``), carry a valid
  signature (``checkpoint signature invalid``), belong to ``log_id`` when one is given
  (``checkpoint belongs to another log``), and pin the hash the chain has at its seq
  (``checkpoint does not match chain``); a genuine checkpoint past the last entry means the log
  was cut short (``truncated before checkpoint at seq N``, named at the first missing seq).

A caller that has already checked a stretch of entries elsewhere (in another process, say) may
pass a :class:`VerifiedRun` in their place: the walk takes it over as if it had read those
entries one by one — the seam to the entry before, and every checkpoint inside it, are checked
here — so the verdict and its reason stay those of the entry-by-entry walk.

What it cannot see alone: whoever can write the table can rewrite a whole suffix and recompute
its hashes. Such a rewrite is caught only by a checkpoint at or after the first rewritten entry,
and named by that checkpoint's seq. :attr:`VerificationReport.anchored_seq` says how far the
chain is pinned by a checkpoint; entries after it are only self-consistent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Final, NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange_api.audit.chain import (
    GENESIS_HASH,
    HASH_SIZE,
    CanonicalizationError,
    compute_hash,
)
from exchange_api.audit.checkpoints import Checkpoint, verify_checkpoint

__all__ = [
    "MalformedExportError",
    "VerificationReport",
    "VerifiedRun",
    "hash_from_hex",
    "iter_ndjson",
    "verify_chain",
]


class MalformedExportError(ValueError):
    """A line of an export file is not one JSON object of integers, strings, lists and objects."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationReport:
    """The verdict of :func:`verify_chain`."""

    ok: bool
    entries_checked: int
    """Entries read that passed every check (the first bad one is not counted)."""
    checkpoints_checked: int
    """Checkpoints whose signature verified and whose hash matched the chain."""
    first_bad_seq: int | None
    reason: str | None
    last_seq: int
    """The last entry that passed (``start_seq - 1`` if none): when ``ok``, the chain head."""
    last_hash: str
    """Its hash in lower-case hex: with ``last_seq + 1``, where a later run can resume."""
    anchored_seq: int | None
    """The highest seq a valid, matching checkpoint pins; ``None`` if no checkpoint did."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedRun:
    """Entries ``first_seq``..``last_seq``, all present, verified by someone else.

    The promise: the entries' seqs are exactly ``first_seq``..``last_seq`` in order, each is
    well-formed, canonical and recomputes to its stated hash from its stated ``prev_hash``, and
    each after the first links to the one before. What the run cannot know — whether its first
    entry links to the chain before it, and whether the checkpoints inside it hold — the walk
    checks when it takes the run over.
    """

    first_seq: int
    last_seq: int
    prev_hash: bytes
    """The first entry's stated ``prev_hash`` (raw), which the run took as given."""
    last_hash: bytes
    """The last entry's hash (raw)."""
    hashes: Mapping[int, bytes]
    """The hash (raw) at every seq in the run that a checkpoint names."""


class _ChainBroken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def hash_from_hex(value: object) -> bytes | None:
    """The raw hash from its wire form, or ``None`` unless exactly 64 lower-case hex digits."""
    if type(value) is not str:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == HASH_SIZE and raw.hex() == value else None


class _ChainWalk:
    """The state of one verification: the chain head so far and the checkpoints still due."""

    def __init__(
        self,
        *,
        start_seq: int,
        start_prev_hash: bytes,
        checkpoints: Iterable[Checkpoint],
        public_keys: Mapping[str, Ed25519PublicKey],
        log_id: str | None,
    ) -> None:
        self.start_seq = start_seq
        self.head_seq = start_seq - 1
        self.head_hash = start_prev_hash
        self.checkpoints_checked = 0
        self.anchored_seq: int | None = None
        self._public_keys = public_keys
        self._log_id = log_id
        self._due: dict[int, list[Checkpoint]] = {}
        for checkpoint in checkpoints:
            self._due.setdefault(checkpoint.seq, []).append(checkpoint)

    def check_checkpoints_before_start(self) -> None:
        """Checkpoints below the first entry: signature only, except the one on its prev_hash."""
        for seq in sorted(seq for seq in self._due if seq <= self.head_seq):
            for checkpoint in self._due.pop(seq):
                self._check_authentic(checkpoint)
                if seq == self.head_seq:
                    self._check_match(checkpoint, self.head_hash)

    def check_entry(self, line: Mapping[str, object]) -> None:
        expected_seq = self.head_seq + 1
        seq = line.get("seq")
        prev_hash = hash_from_hex(line.get("prev_hash"))
        stated_hash = hash_from_hex(line.get("hash"))
        if type(seq) is not int or prev_hash is None or stated_hash is None:
            raise _ChainBroken(expected_seq, "malformed entry")
        self._check_next_seq(seq)
        body = dict(line)
        del body["prev_hash"], body["hash"]
        try:
            digest = compute_hash(prev_hash, body)
        except CanonicalizationError:
            raise _ChainBroken(seq, "entry is not canonical JSON") from None
        if digest != stated_hash:
            raise _ChainBroken(seq, "hash mismatch")
        self._check_link(seq, prev_hash)
        self.head_seq, self.head_hash = seq, digest
        if seq in self._due:
            for checkpoint in self._due.pop(seq):
                self._check_authentic(checkpoint)
                self._check_match(checkpoint, digest)

    def take_over(self, run: VerifiedRun) -> None:
        """Advance over ``run`` as :meth:`check_entry` would over its entries, one by one.

        The run's entries are well-formed and hash correctly (its promise), so what is left is
        what checking its first entry would find after those checks, then each checkpoint at
        the seq where the walk would have met it.
        """
        self._check_next_seq(run.first_seq)
        self._check_link(run.first_seq, run.prev_hash)
        for seq in sorted(seq for seq in self._due if run.first_seq <= seq <= run.last_seq):
            self.head_seq, self.head_hash = seq, run.hashes[seq]
            for checkpoint in self._due.pop(seq):
                self._check_authentic(checkpoint)
                self._check_match(checkpoint, self.head_hash)
        self.head_seq, self.head_hash = run.last_seq, run.last_hash

    def _check_next_seq(self, seq: int) -> None:
        expected_seq = self.head_seq + 1
        if seq > expected_seq:
            raise _ChainBroken(expected_seq, f"gap: seq {expected_seq} missing")
        if seq < expected_seq:
            # Two entries now claim ``seq``; which one is genuine, only a checkpoint can tell.
            contested = seq if seq >= self.start_seq else expected_seq
            raise _ChainBroken(contested, "seq out of order")

    def _check_link(self, seq: int, prev_hash: bytes) -> None:
        if prev_hash != self.head_hash:
            raise _ChainBroken(seq, "prev_hash does not link")

    def check_checkpoints_beyond_end(self) -> None:
        """A genuine checkpoint past the last entry proves entries were cut off the end."""
        if self._due:
            seq = min(self._due)
            for checkpoint in self._due[seq]:
                self._check_authentic(checkpoint)
            raise _ChainBroken(self.head_seq + 1, f"truncated before checkpoint at seq {seq}")

    def _check_authentic(self, checkpoint: Checkpoint) -> None:
        public_key = self._public_keys.get(checkpoint.kid)
        if public_key is None:
            raise _ChainBroken(checkpoint.seq, "checkpoint key unknown")
        if not verify_checkpoint(public_key, checkpoint):
            raise _ChainBroken(checkpoint.seq, "checkpoint signature invalid")
        if self._log_id is not None and checkpoint.log_id != self._log_id:
            raise _ChainBroken(checkpoint.seq, "checkpoint belongs to another log")

    def _check_match(self, checkpoint: Checkpoint, chain_hash: bytes) -> None:
        if hash_from_hex(checkpoint.hash) != chain_hash:
            raise _ChainBroken(checkpoint.seq, "checkpoint does not match chain")
        self.checkpoints_checked += 1
        self.anchored_seq = max(checkpoint.seq, self.anchored_seq or checkpoint.seq)

    def report(self, broken: _ChainBroken | None) -> VerificationReport:
        return VerificationReport(
            ok=broken is None,
            entries_checked=self.head_seq - self.start_seq + 1,
            checkpoints_checked=self.checkpoints_checked,
            first_bad_seq=None if broken is None else broken.seq,
            reason=None if broken is None else broken.reason,
            last_seq=self.head_seq,
            last_hash=self.head_hash.hex(),
            anchored_seq=self.anchored_seq,
        )


def verify_chain(
    entries: Iterable[Mapping[str, object] | VerifiedRun],
    checkpoints: Iterable[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    start_prev_hash: bytes = GENESIS_HASH,
    start_seq: int = 1,
    log_id: str | None = None,
) -> VerificationReport:
    """Check ``entries`` (export lines, in order) and every checkpoint; name the first bad seq.

    Any stretch of ``entries`` may be given as a :class:`VerifiedRun` instead of its lines.

    To verify an export that starts later than seq 1, pass the seq of its first entry and the
    hash before it (from a checkpoint, or a previous report's ``last_hash``). ``public_keys``
    maps ``kid`` to key (see ``load_public_keys_from_jwks``); a checkpoint with any other kid
    is bad. With ``log_id``, a checkpoint of another log is bad too. A malformed line from
    :func:`iter_ndjson` is reported, not raised.
    """
    if len(start_prev_hash) != HASH_SIZE or start_seq < 1:
        raise ValueError("start_prev_hash must be 32 bytes and start_seq at least 1")
    walk = _ChainWalk(
        start_seq=start_seq,
        start_prev_hash=start_prev_hash,
        checkpoints=checkpoints,
        public_keys=public_keys,
        log_id=log_id,
    )
    try:
        walk.check_checkpoints_before_start()
        for line in entries:
            if isinstance(line, VerifiedRun):
                walk.take_over(line)
            else:
                walk.check_entry(line)
        walk.check_checkpoints_beyond_end()
    except _ChainBroken as broken:
        return walk.report(broken)
    except MalformedExportError as exc:
        return walk.report(_ChainBroken(walk.head_seq + 1, f"malformed export: {exc}"))
    return walk.report(None)


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # A line with a key twice reads differently to different JSON parsers; hashing one reading
    # would let a reviewer be shown another.
    document = dict(pairs)
    if len(document) != len(pairs):
        raise MalformedExportError("duplicate key")
    return document


def _refuse_number(text: str) -> NoReturn:
    raise MalformedExportError(f"non-integer number {text[:20]!r}")


_EXPORT_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicate_keys,
    parse_float=_refuse_number,
    parse_constant=_refuse_number,
)


def iter_ndjson(stream: IO[bytes] | IO[str]) -> Iterator[dict[str, object]]:
    """The JSON objects of an NDJSON export, one line at a time; empty lines are skipped.

    Raises :class:`MalformedExportError` (naming the line) for invalid UTF-8 or JSON, a line
    that is not an object, a duplicate key, or any non-integer number.
    """
    line_number = 0
    for raw_line in stream:
        line_number += 1
        try:
            line = raw_line.decode("utf-8") if isinstance(raw_line, bytes) else raw_line
            if not line.rstrip("\r\n"):
                continue
            document = _EXPORT_DECODER.decode(line)
        except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, or refused by a hook
            raise MalformedExportError(f"line {line_number}: {exc}") from None
        if not isinstance(document, dict):
            raise MalformedExportError(f"line {line_number}: not a JSON object")
        yield document
