"""The auditor's operations: pages of events, the streamed export, checkpoints and keys.

Reading the log is itself audited: each operation records ``audit.read`` / ``audit.export`` /
``audit.checkpoint`` through the request's recorder, like every other domain's services.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit import repository
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.chain import AuditAction, SealedEntry
from exchange_api.audit.checkpoints import Checkpoint
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.audit.repository import EXPORT_CHUNK, AuditFilters
from exchange_api.audit.schemas import AuditEventList, AuditEventRead, AuditKeySet
from exchange_api.errors import NotFound
from exchange_api.kit.pagination import INTEGER_KEYS, page_of

__all__ = [
    "ExportRange",
    "NoCheckpointYet",
    "audit_keys",
    "export_lines",
    "export_range",
    "latest_checkpoint",
    "list_events",
    "ndjson_line",
    "sign_checkpoint",
]


class NoCheckpointYet(NotFound):
    def __init__(self) -> None:
        super().__init__("No checkpoint has been signed yet; POST /v1/audit/checkpoints signs one.")


def list_events(
    session: Session,
    filters: AuditFilters,
    audit: AuditRecorder,
    *,
    cursor: str | None,
    limit: int,
    purpose: str | None,
) -> AuditEventList:
    """A page of entries matching ``filters``, oldest first; entries appended meanwhile only
    ever add later pages."""
    after_seq = INTEGER_KEYS.decode(cursor) if cursor is not None else 0
    found = repository.list_entries(session, filters, after_seq=after_seq, limit=limit + 1)
    page, next_cursor = page_of(found, limit, INTEGER_KEYS, lambda entry: entry["seq"])
    audit.record(
        AuditAction.AUDIT_READ,
        resource_ids=[filters.alert_id] if filters.alert_id is not None else [],
        result_count=len(page),
        purpose=purpose,
    )
    return AuditEventList(items=[AuditEventRead.of(e) for e in page], next_cursor=next_cursor)


@dataclass(frozen=True, slots=True)
class ExportRange:
    from_seq: int
    to_seq: int

    @property
    def count(self) -> int:
        return max(0, self.to_seq - self.from_seq + 1)


def export_range(
    session: Session, from_seq: int, audit: AuditRecorder, *, purpose: str | None
) -> ExportRange:
    """What an export starting at ``from_seq`` holds: up to the head as committed now (entries
    appended while it streams belong to the next export)."""
    span = ExportRange(from_seq=from_seq, to_seq=repository.chain_head(session).seq)
    audit.record(AuditAction.AUDIT_EXPORT, result_count=span.count, purpose=purpose)
    return span


def ndjson_line(entry: SealedEntry) -> bytes:
    """One export line: the entry with its hashes, compact UTF-8 JSON, newline-terminated."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def export_lines(session_factory: sessionmaker[Session], span: ExportRange) -> Iterator[bytes]:
    """The NDJSON of ``span``, one chunk of lines at a time, each chunk read in its own short
    transaction: memory stays bounded by the chunk, whatever the size of the log."""
    batch: list[bytes] = []
    for entry in repository.iter_entries(
        session_factory, from_seq=span.from_seq, to_seq=span.to_seq
    ):
        batch.append(ndjson_line(entry))
        if len(batch) == EXPORT_CHUNK:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def latest_checkpoint(session: Session, audit: AuditRecorder) -> Checkpoint:
    checkpoint = repository.latest_checkpoint(session)
    if checkpoint is None:
        raise NoCheckpointYet()
    audit.record(AuditAction.AUDIT_READ, result_count=1)
    return checkpoint


def sign_checkpoint(
    session: Session, log: AuditLog, audit: AuditRecorder
) -> tuple[Checkpoint, bool]:
    """A checkpoint of the log as it is now, and whether it was signed just now (``False``: the
    newest entry already had one)."""
    checkpoint, created = log.checkpoint(session)
    audit.record(AuditAction.AUDIT_CHECKPOINT, result_count=1)
    return checkpoint, created


def audit_keys(log: AuditLog, audit: AuditRecorder) -> AuditKeySet:
    """The JWKS of the keys that verify checkpoints."""
    audit.record(AuditAction.AUDIT_READ)
    return AuditKeySet.model_validate(log.jwks())
