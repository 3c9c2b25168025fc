"""Audit chains for the tests: honest ones, and the tools an attacker with table access has."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from exchange_api.audit.chain import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    Outcome,
    compute_hash,
    format_audit_time,
    seal_entry,
)

_EPOCH = datetime(2026, 11, 28, 14, 3, 7, 123456, tzinfo=UTC)
_ACTIONS = list(AuditAction)
_OUTCOMES = list(Outcome)


def make_entry(seq: int, /, **overrides: Any) -> AuditEntry:
    """A plausible entry whose content varies with ``seq`` (unicode, nulls, empty lists)."""
    entry = AuditEntry(
        seq=seq,
        at=format_audit_time(_EPOCH + timedelta(seconds=seq, microseconds=seq * 7)),
        actor=None if seq % 5 == 0 else f"officer-{seq % 7} Ærø 🔬",
        client_id=f"client-{seq % 3}",
        agency=None if seq % 4 == 0 else f"agency-{seq % 2}",
        action=_ACTIONS[seq % len(_ACTIONS)],
        resource_ids=[f"0193a1b2-c3d4-7e5f-8a9b-{seq + i:012x}" for i in range(seq % 3)],
        result_count=None if seq % 6 == 0 else seq % 3,
        fields=["routing", "parties"][: seq % 3],
        purpose='case "NL-2026/17"\n\tline two' if seq % 2 else None,
        token_id=f"jti-{seq}",
        request_id=f"req-{seq}",
        source_ip="192.0.2.10" if seq % 2 else "2001:db8::1",
        outcome=_OUTCOMES[seq % len(_OUTCOMES)],
    )
    entry.update(overrides)  # type: ignore[typeddict-item]
    return entry


def iter_chain(
    count: int, *, start_seq: int = 1, prev_hash: bytes = GENESIS_HASH
) -> Iterator[dict[str, Any]]:
    """An honest chain, lazily, as plain JSON values (what an export parser gives back)."""
    for seq in range(start_seq, start_seq + count):
        line = seal_entry(prev_hash, make_entry(seq))
        prev_hash = bytes.fromhex(line["hash"])
        yield json.loads(json.dumps(line))


def build_chain(
    count: int, *, start_seq: int = 1, prev_hash: bytes = GENESIS_HASH
) -> list[dict[str, Any]]:
    return list(iter_chain(count, start_seq=start_seq, prev_hash=prev_hash))


def rehash(
    lines: Sequence[dict[str, Any]], start_index: int, stop_index: int | None = None
) -> list[dict[str, Any]]:
    """Recompute the links of ``lines[start_index:stop_index]``, as anyone with table access can."""
    out = [dict(line) for line in lines]
    for index in range(start_index, len(out) if stop_index is None else stop_index):
        prev = bytes.fromhex(out[index - 1]["hash"]) if index else GENESIS_HASH
        body = {k: v for k, v in out[index].items() if k not in ("prev_hash", "hash")}
        out[index]["prev_hash"] = prev.hex()
        out[index]["hash"] = compute_hash(prev, body).hex()
    return out


def to_ndjson(lines: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
