"""Queries over the audit tables: entries as export lines, pages of events, checkpoints.

Entries come back as :class:`~exchange_api.audit.chain.SealedEntry` dicts, the export line: the
stored ``at`` timestamp is turned back into the exact string that was hashed. Nothing here writes
entries (that is :mod:`exchange_api.audit.appender`); checkpoints are added through
:func:`add_checkpoint` by the appender only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from exchange_api.audit.chain import (
    AuditAction,
    Outcome,
    SealedEntry,
    format_audit_time,
    parse_audit_time,
)
from exchange_api.audit.checkpoints import Checkpoint, InvalidCheckpointError
from exchange_api.models.audit import (
    AuditChainHead,
    AuditCheckpointRecord,
    AuditEntryRecord,
    AuditEntryResource,
)

__all__ = [
    "EXPORT_CHUNK",
    "AuditFilters",
    "BeyondHead",
    "ChainHead",
    "StoredCheckpointInvalid",
    "add_checkpoint",
    "all_checkpoints",
    "beyond",
    "chain_head",
    "iter_entries",
    "latest_checkpoint",
    "list_entries",
]

#: Entries read per query when streaming: bounds memory, whatever the size of the log.
EXPORT_CHUNK = 1000

_E = AuditEntryRecord
_EntrySelect = Select[*tuple[Any, ...]]
_ENTRY_COLUMNS: tuple[Any, ...] = (
    col(_E.seq),
    col(_E.at),
    col(_E.actor),
    col(_E.client_id),
    col(_E.agency),
    col(_E.action),
    col(_E.resource_ids),
    col(_E.result_count),
    col(_E.fields),
    col(_E.purpose),
    col(_E.token_id),
    col(_E.request_id),
    col(_E.source_ip),
    col(_E.outcome),
    col(_E.prev_hash),
    col(_E.hash),
)


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilters:
    """``GET /v1/audit/events`` filters; all given ones must hold (AND)."""

    actor: str | None = None
    agency: str | None = None
    client_id: str | None = None
    action: AuditAction | None = None
    alert_id: uuid.UUID | None = None
    outcome: Outcome | None = None
    after: datetime | None = None
    before: datetime | None = None


def _sealed(row: Sequence[Any]) -> SealedEntry:
    """An entry row as its export line (the hashed fields in order, then the two hashes)."""
    return SealedEntry(
        seq=row[0],
        at=format_audit_time(row[1]),
        actor=row[2],
        client_id=row[3],
        agency=row[4],
        action=row[5],
        resource_ids=row[6],
        result_count=row[7],
        fields=row[8],
        purpose=row[9],
        token_id=row[10],
        request_id=row[11],
        source_ip=row[12],
        outcome=row[13],
        prev_hash=row[14],
        hash=row[15],
    )


def _filtered(statement: _EntrySelect, filters: AuditFilters) -> _EntrySelect:
    equal = {
        col(_E.actor): filters.actor,
        col(_E.agency): filters.agency,
        col(_E.client_id): filters.client_id,
        col(_E.action): filters.action,
        col(_E.outcome): filters.outcome,
    }
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(column == value)
    if filters.after is not None:
        statement = statement.where(col(_E.at) > filters.after)
    if filters.before is not None:
        statement = statement.where(col(_E.at) < filters.before)
    if filters.alert_id is not None:
        statement = statement.join(
            AuditEntryResource,
            (col(AuditEntryResource.seq) == col(_E.seq))
            & (col(AuditEntryResource.resource_id) == str(filters.alert_id)),
        )
    return statement


def list_entries(
    session: Session, filters: AuditFilters, *, after_seq: int, limit: int
) -> list[SealedEntry]:
    """Up to ``limit`` entries matching ``filters`` with seq above ``after_seq``, oldest first."""
    statement = select(*_ENTRY_COLUMNS).where(col(_E.seq) > after_seq)
    statement = _filtered(statement, filters).order_by(col(_E.seq)).limit(limit)
    return [_sealed(row) for row in session.execute(statement)]


def iter_entries(
    session_factory: sessionmaker[Session],
    *,
    from_seq: int,
    to_seq: int,
    chunk: int = EXPORT_CHUNK,
) -> Iterator[SealedEntry]:
    """Entries ``from_seq``..``to_seq`` in seq order, ``chunk`` at a time, each chunk read in a
    short transaction of its own: a long export never holds a lock (on SQLite every transaction
    takes the write lock) nor more than one chunk in memory."""
    next_seq = from_seq
    while next_seq <= to_seq:
        statement = (
            select(*_ENTRY_COLUMNS)
            .where(col(_E.seq) >= next_seq, col(_E.seq) <= to_seq)
            .order_by(col(_E.seq))
            .limit(chunk)
        )
        with session_factory() as session:
            rows = [_sealed(row) for row in session.execute(statement)]
        if not rows:
            return
        yield from rows
        next_seq = rows[-1]["seq"] + 1


def chain_head(session: Session) -> ChainHead:
    """The head as last committed (no lock: for readers)."""
    row = session.execute(select(col(AuditChainHead.seq), col(AuditChainHead.hash))).one()
    return ChainHead(seq=row[0], hash=row[1])


class StoredCheckpointInvalid(ValueError):
    """A checkpoint row that is not a checkpoint (edited in the database)."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"checkpoint row at seq {seq} is malformed")
        self.seq = seq


@dataclass(frozen=True, slots=True)
class BeyondHead:
    """What lies past a seq: the first entry and the first checkpoint there, if any."""

    entry_seq: int | None
    checkpoint_seq: int | None


def beyond(session: Session, seq: int) -> BeyondHead:
    """Rows past ``seq``: none can exist past the chain head unless written behind its back."""
    entry = session.execute(select(func.min(col(_E.seq))).where(col(_E.seq) > seq)).scalar()
    checkpoint = session.execute(
        select(func.min(col(AuditCheckpointRecord.seq))).where(col(AuditCheckpointRecord.seq) > seq)
    ).scalar()
    return BeyondHead(entry_seq=entry, checkpoint_seq=checkpoint)


def _checkpoint_of(row: AuditCheckpointRecord) -> Checkpoint:
    try:
        return _checkpoint_fields(row)
    except (InvalidCheckpointError, ValueError) as exc:
        raise StoredCheckpointInvalid(row.seq) from exc


def _checkpoint_fields(row: AuditCheckpointRecord) -> Checkpoint:
    return Checkpoint(
        log_id=row.log_id,
        seq=row.seq,
        hash=row.hash,
        at=format_audit_time(row.at),
        kid=row.kid,
        signature=row.signature,
    )


def add_checkpoint(session: Session, checkpoint: Checkpoint) -> None:
    session.add(
        AuditCheckpointRecord(
            seq=checkpoint.seq,
            log_id=checkpoint.log_id,
            hash=checkpoint.hash,
            at=parse_audit_time(checkpoint.at),
            kid=checkpoint.kid,
            signature=checkpoint.signature,
        )
    )
    session.flush()


def latest_checkpoint(session: Session) -> Checkpoint | None:
    row = session.scalars(
        select(AuditCheckpointRecord).order_by(col(AuditCheckpointRecord.seq).desc()).limit(1)
    ).first()
    return None if row is None else _checkpoint_of(row)


def all_checkpoints(session: Session, *, up_to_seq: int) -> list[Checkpoint]:
    """Every checkpoint up to ``up_to_seq``, by seq (one per thousand entries or interval)."""
    rows = session.scalars(
        select(AuditCheckpointRecord)
        .where(col(AuditCheckpointRecord.seq) <= up_to_seq)
        .order_by(col(AuditCheckpointRecord.seq))
    )
    return [_checkpoint_of(row) for row in rows]
