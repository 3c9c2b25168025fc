"""Appending entries to the audit chain and signing checkpoints: the only code that writes the log.

Appends from every worker and machine form one gapless chain because each one locks the single
chain-head row first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction already
holds the database's write lock, see :mod:`exchange_api.db`), then, under that lock:

1. gives the new entries the next seqs and one time ``at`` — never earlier than the head's, so
   time order follows seq order even across machines whose clocks disagree a little;
2. seals each entry after the previous hash (:func:`~exchange_api.audit.chain.seal_entry`);
3. inserts the entries, their resource-id index rows, and a signed checkpoint for every seq that
   is a multiple of ``checkpoint_every``;
4. moves the head.

The caller commits (or rolls back) with the rest of its transaction, which releases the lock:
the entries exist exactly when the change they record does. The recorder calls :meth:`append`
at the very end of a request, so the lock is held only for the append and the commit.

Checkpoints are also signed every ``checkpoint_interval`` when there are new entries
(:meth:`checkpoint_if_due`, from a background task in every worker: the head lock and the time
of the latest checkpoint keep them from doubling up) and on demand (:meth:`checkpoint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, update
from sqlmodel import Session, SQLModel, col

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
from exchange_api.config import Settings
from exchange_api.crypto import KeyMaterial
from exchange_api.models.audit import AuditChainHead, AuditEntryRecord, AuditEntryResource
from exchange_api.models.types import utc_now

__all__ = ["AuditEvent", "AuditLog"]

_HEAD_ID = 1
_ENTRIES = SQLModel.metadata.tables[AuditEntryRecord.__tablename__]
_RESOURCES = SQLModel.metadata.tables[AuditEntryResource.__tablename__]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One audited action as the recorder saw it, before the log gives it a seq and a time.

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

    def append(self, session: Session, events: Sequence[AuditEvent]) -> list[SealedEntry]:
        """Chain ``events`` after the head, in order, in ``session``'s transaction."""
        if not events:
            return []
        head = _lock_head(session)
        moment = utc_now() if head.at is None else max(utc_now(), head.at)
        at = format_audit_time(moment)
        prev_hash = head.hash
        sealed: list[SealedEntry] = []
        entry_rows: list[dict[str, Any]] = []
        resource_rows: list[dict[str, Any]] = []
        checkpoints: list[Checkpoint] = []
        for offset, event in enumerate(events, start=1):
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
        # Core inserts (executemany): the ORM's bulk path costs more than the hashing here.
        session.execute(insert(_ENTRIES), entry_rows)
        if resource_rows:
            session.execute(insert(_RESOURCES), resource_rows)
        for checkpoint in checkpoints:
            repository.add_checkpoint(session, checkpoint)
        last = sealed[-1]
        session.execute(
            update(AuditChainHead)
            .where(col(AuditChainHead.id) == _HEAD_ID)
            .values(seq=last["seq"], hash=last["hash"], at=moment)
        )
        return sealed

    def checkpoint(self, session: Session) -> tuple[Checkpoint, bool]:
        """A checkpoint of the head now: ``(checkpoint, True)`` if signed now, ``(…, False)`` if
        the head already had one. The empty log gets one at seq 0 (the 32 zero bytes)."""
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
    row = session.execute(
        select(col(AuditChainHead.seq), col(AuditChainHead.hash), col(AuditChainHead.at))
        .where(col(AuditChainHead.id) == _HEAD_ID)
        .with_for_update()
    ).one()
    return _Head(seq=row[0], hash=bytes.fromhex(row[1]), at=row[2])
