"""Writing the audit log: taking entries in, chaining them, signing checkpoints.

Two steps, so that requests never wait on each other for the log:

- **Intake** (:meth:`AuditLog.submit`, from the recorder just before a request commits): the
  request's entries are inserted into ``audit_intake`` in the request's own transaction — a change
  and its record commit together or not at all — without any lock, so concurrent requests share
  their commits' fsyncs.
- **Chaining** (:meth:`AuditLog.chain_intake`, from the sequencer in every worker within a
  quarter of a second, and before anything reads or verifies the log): under the lock on the single
  chain-head row (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction already holds
  the database's write lock, see :mod:`exchange_api.db`), the waiting entries, in intake order:

  1. get the next seqs, and an ``at`` that is their recorded time but never earlier than the
     entry before, so time order follows seq order even across machines whose clocks disagree;
  2. are sealed after the previous hash (:func:`~exchange_api.audit.chain.seal_entry`);
  3. are inserted with their resource-id index rows and a signed checkpoint for every seq that is
     a multiple of ``checkpoint_every``, and deleted from the intake;
  4. move the head.

  One transaction chains many requests' entries; every worker's and machine's sequencer takes the
  same lock, so the chain stays one and gapless.

The cost of the split: an entry spends about a quarter of a second in the intake before it is
chained, where it is durable but not yet covered by a hash. Everything that reads the log chains
the intake first (the auditor API, ``audit verify``, ``audit checkpoint``), so an auditor always
sees every recorded entry. :meth:`AuditLog.append` chains events directly, for bulk loaders (the
demo data).

Checkpoints are also signed every ``checkpoint_interval`` when there are new entries
(:meth:`checkpoint_if_due`, from a background task in every worker: the head lock and the time
of the latest checkpoint keep them from doubling up) and on demand (:meth:`checkpoint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session, SQLModel

from exchange_api.audit import repository
from exchange_api.audit.chain import (
    AuditAction,
    AuditEntry,
    Outcome,
    SealedEntry,
    format_audit_time,
    parse_audit_time,
    seal_entry,
)
from exchange_api.audit.checkpoints import Checkpoint, public_jwks, sign_checkpoint
from exchange_api.bulk import insert_rows, take_oldest
from exchange_api.config import Settings
from exchange_api.crypto import KeyMaterial
from exchange_api.models.audit import (
    AuditChainHead,
    AuditEntryRecord,
    AuditEntryResource,
    AuditIntakeRecord,
)
from exchange_api.models.types import utc_now

__all__ = ["CHAIN_BATCH", "SUBMITTED", "AuditEvent", "AuditLog"]

CHAIN_BATCH = 5000
"""Intake entries chained per transaction at most: bounds the transaction, not the throughput."""
SUBMITTED = "audit_submitted"
"""``Session.info`` key set when a transaction put entries in the intake (the sequencer's cue)."""

_HEAD_ID = 1
_ENTRIES = SQLModel.metadata.tables[AuditEntryRecord.__tablename__]
_RESOURCES = SQLModel.metadata.tables[AuditEntryResource.__tablename__]
_INTAKE = SQLModel.metadata.tables[AuditIntakeRecord.__tablename__]
_HEAD = SQLModel.metadata.tables[AuditChainHead.__tablename__]
# Built once: every audited request runs the first, the sequencer the others several times a
# second. ``inline``: nothing reads an intake row's id back, so the INSERT asks for none (no
# ``RETURNING``, no result to set up).
_INTAKE_INSERT = insert(_INTAKE).inline()
_LOCK_HEAD = (
    select(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.at).where(_HEAD.c.id == _HEAD_ID).with_for_update()
)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == _HEAD_ID)
    .values(seq=bindparam("seq"), hash=bindparam("hash"), at=bindparam("at"))
)
_EVENT_COLUMNS = tuple(column.name for column in _INTAKE.c if column.name != "id")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One audited action as the recorder saw it, before the log gives it a seq.

    Only identifiers, counts and names: never the content of an alert.
    """

    action: AuditAction
    outcome: Outcome
    actor: str | None
    client_id: str | None
    agency: str | None
    token_id: str | None
    request_id: str | None
    source_ip: str | None
    resource_ids: tuple[str, ...] = ()
    result_count: int | None = None
    fields: tuple[str, ...] = ()
    purpose: str | None = None
    at: datetime = field(default_factory=utc_now)
    """When it was recorded (the chain may move it later, never earlier: see the module)."""

    @classmethod
    def of_intake(cls, row: Any) -> AuditEvent:
        values = {name: getattr(row, name) for name in _EVENT_COLUMNS}
        values.update(
            action=AuditAction(row.action),
            outcome=Outcome(row.outcome),
            resource_ids=tuple(row.resource_ids),
            fields=tuple(row.fields),
        )
        return cls(**values)

    def intake_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in _EVENT_COLUMNS}
        row["resource_ids"] = list(self.resource_ids)
        row["fields"] = list(self.fields)
        return row

    def entry(self, seq: int, at: str) -> AuditEntry:
        return AuditEntry(
            seq=seq,
            at=at,
            actor=self.actor,
            client_id=self.client_id,
            agency=self.agency,
            action=self.action,
            resource_ids=list(self.resource_ids),
            result_count=self.result_count,
            fields=list(self.fields),
            purpose=self.purpose,
            token_id=self.token_id,
            request_id=self.request_id,
            source_ip=self.source_ip,
            outcome=self.outcome,
        )


@dataclass(frozen=True, slots=True)
class _Head:
    seq: int
    hash: bytes
    at: datetime | None


class AuditLog:
    """This service's audit log: its id, its checkpoint key and when it signs checkpoints."""

    def __init__(
        self,
        *,
        log_id: str,
        signing_key: Ed25519PrivateKey,
        checkpoint_every: int,
        checkpoint_interval: timedelta,
    ) -> None:
        self.log_id = log_id
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval = checkpoint_interval
        self._signing_key = signing_key

    @classmethod
    def from_settings(cls, settings: Settings, keys: KeyMaterial) -> AuditLog:
        return cls(
            log_id=settings.audit_log,
            signing_key=keys.audit_signing_key,
            checkpoint_every=settings.audit_checkpoint_every,
            checkpoint_interval=timedelta(seconds=settings.audit_checkpoint_interval),
        )

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS of the keys that verify this log's checkpoints."""
        return public_jwks([self._signing_key.public_key()])

    def submit(self, session: Session, events: Sequence[AuditEvent]) -> None:
        """Put ``events`` in the intake, in ``session``'s transaction if it has one (no lock
        taken)."""
        if not events:
            return
        rows = [event.intake_row() for event in events]
        # One row (nearly every request) as a plain execute: executemany's pipeline costs more.
        session.connection().execute(_INTAKE_INSERT, rows[0] if len(rows) == 1 else rows)
        session.info[SUBMITTED] = True

    def chain_intake(self, session: Session, *, limit: int = CHAIN_BATCH) -> int:
        """Chain up to ``limit`` intake entries, oldest first, in ``session``'s transaction;
        return how many. The head is locked before the intake is read, so a sequencer that
        waited for another one's lock sees what that one chained as gone."""
        head = _lock_head(session)
        taken = take_oldest(session.connection(), _INTAKE, limit)
        if not taken:
            return 0
        rows = sorted(taken, key=lambda row: int(row.id))
        self._chain(session, head, [AuditEvent.of_intake(row) for row in rows])
        return len(rows)

    def chain_all(self, session: Session) -> int:
        """Chain the whole intake in ``session``'s transaction (for readers of the log: what
        they read then holds every entry recorded so far); return how many."""
        chained = 0
        while True:
            count = self.chain_intake(session)
            chained += count
            if count < CHAIN_BATCH:  # a short batch emptied the intake
                return chained

    def append(self, session: Session, events: Sequence[AuditEvent]) -> list[SealedEntry]:
        """Chain ``events`` after the head at once, in order, in ``session``'s transaction
        (bulk loaders; requests :meth:`submit`)."""
        if not events:
            return []
        return self._chain(session, _lock_head(session), events)

    def _chain(
        self, session: Session, head: _Head, events: Sequence[AuditEvent]
    ) -> list[SealedEntry]:
        moment = head.at
        prev_hash = head.hash
        sealed: list[SealedEntry] = []
        entry_rows: list[dict[str, Any]] = []
        resource_rows: list[dict[str, Any]] = []
        checkpoints: list[Checkpoint] = []
        for offset, event in enumerate(events, start=1):
            moment = event.at if moment is None else max(event.at, moment)
            at = format_audit_time(moment)
            line = seal_entry(prev_hash, event.entry(head.seq + offset, at))
            prev_hash = bytes.fromhex(line["hash"])
            sealed.append(line)
            entry_rows.append({**line, "at": moment})
            resource_rows.extend(
                {"resource_id": resource_id, "seq": line["seq"]}
                for resource_id in dict.fromkeys(line["resource_ids"])
            )
            if line["seq"] % self.checkpoint_every == 0:
                checkpoints.append(self._sign(line["seq"], line["hash"], at))
        # On the connection, in bulk (COPY on PostgreSQL): the ORM's execution path and row-by-row
        # inserts cost more than the hashing here (a search's entry names 50 alerts).
        connection = session.connection()
        insert_rows(connection, _ENTRIES, entry_rows)
        insert_rows(connection, _RESOURCES, resource_rows)
        for checkpoint in checkpoints:
            repository.add_checkpoint(session, checkpoint)
        last = sealed[-1]
        connection.execute(_MOVE_HEAD, {"seq": last["seq"], "hash": last["hash"], "at": moment})
        return sealed

    def checkpoint(self, session: Session) -> tuple[Checkpoint, bool]:
        """A checkpoint of the head now: ``(checkpoint, True)`` if signed now, ``(…, False)`` if
        the head already had one, once the intake is chained. The empty log gets one at seq 0
        (the 32 zero bytes)."""
        self.chain_all(session)
        head = _lock_head(session)
        latest = repository.latest_checkpoint(session)
        if latest is not None and latest.seq == head.seq:
            return latest, False
        return self._sign_head(session, head), True

    def checkpoint_if_due(self, session: Session) -> Checkpoint | None:
        """Sign a checkpoint of the head if there are entries since the latest checkpoint and
        that one is at least ``checkpoint_interval`` old; otherwise nothing."""
        head = _lock_head(session)
        latest = repository.latest_checkpoint(session)
        if head.seq == 0 or (latest is not None and latest.seq >= head.seq):
            return None
        if (
            latest is not None
            and utc_now() - parse_audit_time(latest.at) < self.checkpoint_interval
        ):
            return None
        return self._sign_head(session, head)

    def _sign_head(self, session: Session, head: _Head) -> Checkpoint:
        moment = utc_now() if head.at is None else max(utc_now(), head.at)
        checkpoint = self._sign(head.seq, head.hash.hex(), format_audit_time(moment))
        repository.add_checkpoint(session, checkpoint)
        return checkpoint

    def _sign(self, seq: int, hash_hex: str, at: str) -> Checkpoint:
        return sign_checkpoint(
            self._signing_key, log_id=self.log_id, seq=seq, hash_hex=hash_hex, at=at
        )


def _lock_head(session: Session) -> _Head:
    """Lock the chain head until the transaction ends, and read it."""
    row = session.connection().execute(_LOCK_HEAD).one()
    return _Head(seq=row[0], hash=bytes.fromhex(row[1]), at=row[2])
