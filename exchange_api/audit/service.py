"""The auditor's operations: pages of events, the streamed export, checkpoints and keys.

Reading the log is itself audited: the endpoints record ``audit.read`` / ``audit.export`` /
``audit.checkpoint`` entries through the recorder, like every other domain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit import repository
from exchange_api.audit.chain import SealedEntry
from exchange_api.audit.checkpoints import Checkpoint
from exchange_api.audit.repository import EXPORT_CHUNK, AuditFilters
from exchange_api.audit.schemas import AuditEventList, AuditEventRead
from exchange_api.errors import BadRequest, NotFound

__all__ = [
    "ExportRange",
    "InvalidAuditCursor",
    "NoCheckpointYet",
    "export_lines",
    "export_range",
    "latest_checkpoint",
    "list_events",
    "ndjson_line",
]

_CURSOR = re.compile(r"[0-9]{1,18}")


class InvalidAuditCursor(BadRequest):
    slug = "invalid-cursor"
    title = "Invalid cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not valid.")


class NoCheckpointYet(NotFound):
    def __init__(self) -> None:
        super().__init__("No checkpoint has been signed yet; POST /v1/audit/checkpoints signs one.")


def list_events(
    session: Session, filters: AuditFilters, *, cursor: str | None, limit: int
) -> AuditEventList:
    """A page of entries matching ``filters``, oldest first; entries appended meanwhile only
    ever add later pages."""
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise InvalidAuditCursor()
    after_seq = int(cursor) if cursor is not None else 0
    found = repository.list_entries(session, filters, after_seq=after_seq, limit=limit + 1)
    page = found[:limit]
    next_cursor = str(page[-1]["seq"]) if len(found) > limit else None
    return AuditEventList(items=[AuditEventRead.of(e) for e in page], next_cursor=next_cursor)


@dataclass(frozen=True, slots=True)
class ExportRange:
    from_seq: int
    to_seq: int

    @property
    def count(self) -> int:
        return max(0, self.to_seq - self.from_seq + 1)


def export_range(session: Session, from_seq: int) -> ExportRange:
    """What an export starting at ``from_seq`` holds: up to the head as committed now (entries
    appended while it streams belong to the next export)."""
    return ExportRange(from_seq=from_seq, to_seq=repository.chain_head(session).seq)


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


def latest_checkpoint(session: Session) -> Checkpoint:
    checkpoint = repository.latest_checkpoint(session)
    if checkpoint is None:
        raise NoCheckpointYet()
    return checkpoint
