"""The audit log (scope ``audit:read``): events, export, checkpoints, keys, and verification.

:meth:`Audit.verify` exports the log, fetches its keys and latest checkpoint, and checks it all
offline with :mod:`exchange_client.audit_verify`; keep the checkpoints it returns somewhere the
server's administrators cannot reach, and pass them to later verifications.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.audit_verify import AuditVerdict, verify_export
from exchange_client.errors import NotFound
from exchange_client.models import AuditEventRead, AuditKeySet, CheckpointRead

__all__ = ["AsyncAudit", "Audit", "calls"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def events(limit: int | None, filters: dict[str, object]) -> Call[Page[AuditEventRead]]:
        values = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in filters.items()}
        return Call("GET", "/v1/audit/events", as_json, params=query(**values, limit=limit))

    @staticmethod
    def export(from_seq: int) -> Call[None]:
        return Call("GET", "/v1/audit/export", as_json, params=query(from_seq=from_seq))

    @staticmethod
    def latest_checkpoint() -> Call[CheckpointRead]:
        return Call("GET", "/v1/audit/checkpoints/latest", as_json)

    @staticmethod
    def sign_checkpoint() -> Call[CheckpointRead]:
        return Call.post("/v1/audit/checkpoints", as_json, None)

    @staticmethod
    def keys() -> Call[AuditKeySet]:
        return Call("GET", "/v1/audit/keys", as_json)


def _last_seq(headers: Any) -> int:
    return int(headers.get("X-Audit-Last-Seq", "0"))


def _verify(
    path: Path,
    keys: AuditKeySet,
    checkpoints: Sequence[CheckpointRead],
    from_seq: int,
    log_id: str | None,
) -> AuditVerdict:
    return verify_export(
        path, dict(keys), [dict(c) for c in checkpoints], from_seq=from_seq, log_id=log_id
    )


class Audit:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def events(
        self,
        *,
        limit: int | None = None,
        actor: str | None = None,
        agency: str | None = None,
        client_id: str | None = None,
        action: str | None = None,
        alert_id: str | None = None,
        outcome: str | None = None,
        after: datetime | str | None = None,
        before: datetime | str | None = None,
    ) -> Iterator[AuditEventRead]:
        filters = {k: v for k, v in locals().items() if k not in ("self", "limit")}
        return self._run.iterate(calls.events(limit, filters))

    def export(self, sink: IO[bytes], *, from_seq: int = 1) -> int:
        """Write the NDJSON export into ``sink``; the last seq it holds."""
        return _last_seq(self._run.download(calls.export(from_seq), sink))

    def latest_checkpoint(self) -> CheckpointRead | None:
        """The newest signed checkpoint, ``None`` while the log has none."""
        try:
            return self._run.call(calls.latest_checkpoint())
        except NotFound:
            return None

    def sign_checkpoint(self) -> CheckpointRead:
        return self._run.call(calls.sign_checkpoint())

    def keys(self) -> AuditKeySet:
        return self._run.call(calls.keys())

    def verify(
        self,
        *,
        checkpoints: Sequence[CheckpointRead] = (),
        log_id: str | None = None,
        keep: Path | None = None,
    ) -> tuple[AuditVerdict, list[CheckpointRead]]:
        """Export the whole log and verify it offline against the server's keys, the latest
        checkpoint and ``checkpoints`` kept from before; the verdict and the checkpoints used.
        ``keep``: write the export there instead of a temporary file."""
        latest = self.latest_checkpoint()
        used = [*checkpoints, *([latest] if latest is not None else [])]
        keys = self.keys()
        with tempfile.TemporaryDirectory() as scratch:
            path = keep or Path(scratch) / "audit.ndjson"
            with path.open("wb") as sink:
                self.export(sink)
            return _verify(path, keys, used, 1, log_id), used


class AsyncAudit:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    def events(
        self,
        *,
        limit: int | None = None,
        actor: str | None = None,
        agency: str | None = None,
        client_id: str | None = None,
        action: str | None = None,
        alert_id: str | None = None,
        outcome: str | None = None,
        after: datetime | str | None = None,
        before: datetime | str | None = None,
    ) -> AsyncIterator[AuditEventRead]:
        filters = {k: v for k, v in locals().items() if k not in ("self", "limit")}
        return self._run.iterate(calls.events(limit, filters))

    async def export(self, sink: IO[bytes], *, from_seq: int = 1) -> int:
        """Write the NDJSON export into ``sink``; the last seq it holds."""
        return _last_seq(await self._run.download(calls.export(from_seq), sink))

    async def latest_checkpoint(self) -> CheckpointRead | None:
        """The newest signed checkpoint, ``None`` while the log has none."""
        try:
            return await self._run.call(calls.latest_checkpoint())
        except NotFound:
            return None

    async def sign_checkpoint(self) -> CheckpointRead:
        return await self._run.call(calls.sign_checkpoint())

    async def keys(self) -> AuditKeySet:
        return await self._run.call(calls.keys())

    async def verify(
        self,
        *,
        checkpoints: Sequence[CheckpointRead] = (),
        log_id: str | None = None,
        keep: Path | None = None,
    ) -> tuple[AuditVerdict, list[CheckpointRead]]:
        """Export the whole log and verify it offline against the server's keys, the latest
        checkpoint and ``checkpoints`` kept from before; the verdict and the checkpoints used.
        ``keep``: write the export there instead of a temporary file."""
        latest = await self.latest_checkpoint()
        used = [*checkpoints, *([latest] if latest is not None else [])]
        keys = await self.keys()
        with tempfile.TemporaryDirectory() as scratch:
            path = keep or Path(scratch) / "audit.ndjson"
            with path.open("wb") as sink:
                await self.export(sink)
            return _verify(path, keys, used, 1, log_id), used
