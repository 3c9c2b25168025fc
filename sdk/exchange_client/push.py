"""``exchange push``: send an alert file in batches of 500, so that a re-run never duplicates.

- **Deterministic batches.** Records are numbered in file order; batch *k* is records
  500k..500k+499, whatever happened to them, so a batch is the same on every run of the same
  file. Each batch is sent with ``Idempotency-Key: push-<file SHA-256, 32 hex>-<k>``.
- **A journal** beside the file (``<file>.journal.ndjson``) records, for this file's digest, each
  batch's answer once received (the alert id or the problem of every record). A re-run skips
  every batch it holds, so what went in is not even sent again; a changed file has another
  digest and starts afresh. It is written out as each answer arrives but never ``fsync``-ed:
  what a killed run wrote survives it, and an entry a machine crash loses only means that
  batch is sent again under its key and answered as the first time (below).
- **A batch whose answer was lost** (the connection dropped after sending, or the run was killed
  while it was in flight) is sent again with the same key: by the client at once, or by the
  next run. The server stores a batch once per key and answers a repeat with its first answer
  (docs/contract.md, "Batch"), so every record goes in exactly once — provided the next run
  comes while the server still remembers the key (``EXCHANGE_IDEMPOTENCY_KEY_DAYS``, 7 days by
  default).
- ``<file>.errors.ndjson`` holds ``{"line": n, "problem": {...}}`` for every record that did not
  go in, in line order, rewritten by each run.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from exchange_client._core import JsonText
from exchange_client.api.alerts import BATCH_LIMIT, BatchItem
from exchange_client.client import Client
from exchange_client.rows import Row, read_rows

__all__ = ["PushReport", "journal_path", "push_file"]

UNREADABLE_ROW = "urn:exchange-client:problem:unreadable-row"


@dataclass(slots=True)
class PushReport:
    rows: int = 0
    created: int = 0
    skipped: int = 0
    """Records of batches a previous run already sent and saw answered."""
    failed: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Line → problem, for every record that did not go in."""

    @property
    def complete(self) -> bool:
        return not self.failed


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal.ndjson")


def errors_path(path: Path) -> Path:
    return path.with_name(path.name + ".errors.ndjson")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _batches(rows: Iterator[Row]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_LIMIT:
            yield batch
            batch = []
    if batch:
        yield batch


def _entries(path: Path) -> list[dict[str, Any]]:
    """A journal's entries; a line cut short (the run was killed as it wrote) is left out."""
    entries = []
    with path.open(encoding="utf-8") as stream:
        for text in stream:
            try:
                entry = json.loads(text)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


class _Journal:
    """The append-only record of what this file's batches became (see the module docstring)."""

    def __init__(self, path: Path, digest: str) -> None:
        self.path = path
        self.done: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        entries = _entries(path) if path.exists() else []
        if entries and entries[0].get("file_sha256") == digest:
            self.done = {
                entry["batch"]: entry["results"] for entry in entries[1:] if "batch" in entry
            }
            self._stream = path.open("a", encoding="utf-8")
            self._stream.write("\n")  # ends a line a killed run may have cut short
            return
        self._stream = path.open("w", encoding="utf-8")
        self._write({"file_sha256": digest, "batch_size": BATCH_LIMIT})

    def _write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._stream.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._stream.flush()

    def mark_done(self, batch: int, results: dict[str, Any]) -> None:
        self._write({"batch": batch, "results": results})

    def close(self) -> None:
        self._stream.close()


def _item(row: Row) -> BatchItem:
    """What a readable row sends: its JSON text as read if it has one, else its alert."""
    if row.text is not None:
        return JsonText(row.text)
    assert row.alert is not None
    return row.alert


def _problem(kind: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "title": title, "status": 0, "detail": detail, **extra}


class _Progress:
    """One line on stderr, redrawn at most ten times a second; nothing when not a terminal."""

    def __init__(self, stream: IO[str], enabled: bool) -> None:
        self.stream, self.enabled = stream, enabled
        self.started = self.drawn = time.monotonic()

    def show(self, done: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.drawn < 0.1):
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        self.stream.write(f"\r{done:,} rows sent ({rate:,.0f}/s)" + ("\n" if final else ""))
        self.stream.flush()


def push_file(
    client: Client,
    path: Path,
    *,
    in_flight: int = 4,
    progress: IO[str] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> PushReport:
    """Send every record of ``path`` (see the module docstring); the report of this run."""
    digest = _digest(path)
    journal = _Journal(journal_path(path), digest)
    report = PushReport()
    bar = _Progress(progress or sys.stderr, progress is not None and progress.isatty())

    def send(index: int, batch: list[Row]) -> dict[str, Any]:
        readable = [row for row in batch if row.alert is not None]
        results: dict[str, Any] = {}
        for row in batch:
            if row.error is not None:
                results[str(row.line)] = {
                    "problem": _problem(
                        UNREADABLE_ROW, "Unreadable row", str(row.error), column=row.error.column
                    )
                }
        if readable:
            key = f"push-{digest[:32]}-{index}"
            answer = client.alerts.create_batch(
                [_item(row) for row in readable], idempotency_key=key
            )
            for item in answer["results"]:
                line = str(readable[item["index"]].line)
                results[line] = {"id": item["id"]} if "id" in item else {"problem": item["error"]}  # type: ignore[typeddict-item]
        journal.mark_done(index, results)
        return results

    def take(results: dict[str, Any]) -> None:
        for line, result in results.items():
            report.rows += 1
            if "id" in result:
                report.created += 1
            else:
                report.failed[int(line)] = result["problem"]

    try:
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            pending: set[Future[dict[str, Any]]] = set()
            for index, batch in enumerate(_batches(read_rows(path))):
                if index in journal.done:
                    for line, result in journal.done[index].items():
                        report.skipped += "id" in result
                        report.rows += 1
                        if "problem" in result:
                            report.failed[int(line)] = result["problem"]
                    continue
                if len(pending) >= in_flight:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        take(future.result())
                pending.add(pool.submit(send, index, batch))
                if on_batch is not None:
                    on_batch(index)
                bar.show(report.rows)
            for future in pending:
                take(future.result())
    finally:
        journal.close()
    bar.show(report.rows, final=True)
    _write_errors(errors_path(path), report.failed)
    return report


def _write_errors(path: Path, failed: dict[int, dict[str, Any]]) -> None:
    if not failed:
        path.unlink(missing_ok=True)
        return
    with path.open("w", encoding="utf-8") as stream:
        for line in sorted(failed):
            stream.write(json.dumps({"line": line, "problem": failed[line]}) + "\n")
