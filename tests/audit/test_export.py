"""The export streams in bounded memory: chunk by chunk, each from its own short transaction."""

from __future__ import annotations

import json
import tracemalloc
import uuid

from fastapi import FastAPI

from exchange_api.audit import AuditAction, Outcome
from exchange_api.audit.appender import AuditEvent
from exchange_api.audit.repository import EXPORT_CHUNK
from exchange_api.audit.service import ExportRange, export_lines
from tests.audit.independent_verifier import verify_export

ENTRIES = 20_000


def grow_the_log(app: FastAPI, count: int) -> None:
    """``count`` entries through the real appender, ten thousand per transaction."""
    event = AuditEvent(
        action=AuditAction.ALERT_SEARCH,
        outcome=Outcome.ALLOWED,
        actor="NL-DOUANE-0042",
        client_id=str(uuid.uuid4()),
        agency=str(uuid.uuid4()),
        token_id=str(uuid.uuid4()),
        request_id=str(uuid.uuid4()),
        source_ip="198.51.100.23",
        resource_ids=tuple(str(uuid.uuid4()) for _ in range(3)),
        result_count=3,
        fields=("routing",),
        purpose="case NL-2026-00123",
    )
    for start in range(0, count, 10_000):
        with app.state.session_factory.begin() as session:
            app.state.audit_log.append(session, [event] * min(10_000, count - start))


def streamed(app: FastAPI, span: ExportRange) -> tuple[int, int, bytes]:
    """Stream ``span``: bytes exported, peak memory traced meanwhile, and the last line."""
    tracemalloc.start()
    try:
        exported = 0
        last_line = b""
        for chunk in export_lines(app.state.session_factory, span):
            exported += len(chunk)
            last_line = chunk.splitlines()[-1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return exported, peak, last_line


def test_the_export_streams_in_memory_that_does_not_grow_with_the_log(app: FastAPI) -> None:
    grow_the_log(app, ENTRIES)

    small, small_peak, _ = streamed(app, ExportRange(1, 2 * EXPORT_CHUNK))
    whole, whole_peak, last_line = streamed(app, ExportRange(1, ENTRIES))

    assert json.loads(last_line)["seq"] == ENTRIES
    assert whole > 9 * small
    # Ten times the entries, about the same memory: one chunk at a time, never the whole log.
    assert whole_peak < 1.5 * small_peak
    assert whole_peak < whole / 2


def test_an_export_of_many_chunks_verifies_independently(app: FastAPI) -> None:
    grow_the_log(app, 3 * EXPORT_CHUNK + 17)

    ndjson = b"".join(
        export_lines(app.state.session_factory, ExportRange(1, 3 * EXPORT_CHUNK + 17))
    )

    verdict = verify_export(ndjson, [], {"keys": []})
    assert verdict.ok, verdict.problem
    assert len(ndjson.splitlines()) == 3 * EXPORT_CHUNK + 17
