"""Alerts: create (one, or a batch of up to 500), read, change, search, history, links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from exchange_client._core import (
    AsyncRunner,
    Call,
    JsonText,
    Page,
    SyncRunner,
    as_json,
    encode_json,
    query,
)
from exchange_client.models import (
    AlertCreate,
    AlertLinks,
    AlertRead,
    AlertReceipt,
    AlertSummary,
    AlertVersion,
    BatchResult,
)

__all__ = ["BATCH_LIMIT", "Alerts", "AsyncAlerts", "BatchItem", "calls"]

BATCH_LIMIT = 500

Filter = str | Sequence[str] | None
BatchItem = AlertCreate | Mapping[str, Any] | JsonText
"""An alert of a batch: a body, or its JSON text as read from a file (sent as it is)."""


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def create(
        body: AlertCreate | Mapping[str, Any], idempotency_key: str | None
    ) -> Call[AlertReceipt]:
        return Call.post(
            "/v1/alerts",
            as_json,
            body,
            idempotency_key=idempotency_key,
            replays_idempotency_key=True,
        )

    @staticmethod
    def create_batch(bodies: Sequence[BatchItem], idempotency_key: str | None) -> Call[BatchResult]:
        items = ",".join(encode_json(body) for body in bodies)
        return Call.post(
            "/v1/alerts/batch",
            as_json,
            JsonText(f'{{"alerts":[{items}]}}'),
            idempotency_key=idempotency_key,
            replays_idempotency_key=True,
        )

    @staticmethod
    def get(alert_id: str, purpose: str) -> Call[AlertRead]:
        return Call("GET", f"/v1/alerts/{alert_id}", as_json, headers=(("X-Purpose", purpose),))

    @staticmethod
    def update(alert_id: str, patch: Mapping[str, Any], version: int) -> Call[AlertReceipt]:
        headers = (("If-Match", f'"v{version}"'), ("Content-Type", "application/merge-patch+json"))
        return Call("PATCH", f"/v1/alerts/{alert_id}", as_json, body=dict(patch), headers=headers)

    @staticmethod
    def history(alert_id: str, purpose: str | None) -> Call[Page[AlertVersion]]:
        headers = () if purpose is None else (("X-Purpose", purpose),)
        return Call("GET", f"/v1/alerts/{alert_id}/history", as_json, headers=headers)

    @staticmethod
    def links(alert_id: str, purpose: str) -> Call[AlertLinks]:
        return Call(
            "GET", f"/v1/alerts/{alert_id}/links", as_json, headers=(("X-Purpose", purpose),)
        )

    @staticmethod
    def search(
        purpose: str | None, limit: int | None, filters: Mapping[str, object]
    ) -> Call[Page[AlertSummary]]:
        params = query(**{k: _text(v) for k, v in filters.items()}, limit=limit)
        headers = () if purpose is None else (("X-Purpose", purpose),)
        return Call("GET", "/v1/alerts", as_json, params=params, headers=headers)


def _text(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    return value


class Alerts:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def create(
        self, body: AlertCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> AlertReceipt:
        """Report one alert (safe to retry: it carries an ``Idempotency-Key``)."""
        return self._run.call(calls.create(body, idempotency_key))

    def create_batch(
        self,
        bodies: Sequence[BatchItem],
        *,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        """Report up to 500 alerts; one result per item, ``{index, id}`` or ``{index, error}``."""
        return self._run.call(calls.create_batch(bodies, idempotency_key))

    def get(self, alert_id: str, *, purpose: str) -> AlertRead:
        return self._run.call(calls.get(alert_id, purpose))

    def update(self, alert_id: str, patch: Mapping[str, Any], *, version: int) -> AlertReceipt:
        """JSON Merge Patch of the alert at ``version`` (412 PreconditionFailed if stale)."""
        return self._run.call(calls.update(alert_id, patch, version))

    def history(self, alert_id: str, *, purpose: str | None = None) -> Iterator[AlertVersion]:
        return self._run.iterate(calls.history(alert_id, purpose))

    def links(self, alert_id: str, *, purpose: str) -> AlertLinks:
        return self._run.call(calls.links(alert_id, purpose))

    def search(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        substance: Filter = None,
        origin: str | None = None,
        transit: str | None = None,
        destination: str | None = None,
        country: str | None = None,
        incident_type: Filter = None,
        status: Filter = None,
        reporting_agency: str | None = None,
        detected_after: date | str | None = None,
        detected_before: date | str | None = None,
        party: str | None = None,
        document: str | None = None,
        stage: Filter = None,
        substance_name: str | None = None,
    ) -> Iterator[AlertSummary]:
        """Every alert matching the filters (AND; a list matches any of its values), newest
        first, fetched ``limit`` per page. ``party``/``document`` need ``purpose``."""
        filters = {k: v for k, v in locals().items() if k not in ("self", "purpose", "limit")}
        return self._run.iterate(calls.search(purpose, limit, filters))


class AsyncAlerts:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    async def create(
        self, body: AlertCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> AlertReceipt:
        """Report one alert (safe to retry: it carries an ``Idempotency-Key``)."""
        return await self._run.call(calls.create(body, idempotency_key))

    async def create_batch(
        self,
        bodies: Sequence[BatchItem],
        *,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        """Report up to 500 alerts; one result per item, ``{index, id}`` or ``{index, error}``."""
        return await self._run.call(calls.create_batch(bodies, idempotency_key))

    async def get(self, alert_id: str, *, purpose: str) -> AlertRead:
        return await self._run.call(calls.get(alert_id, purpose))

    async def update(
        self, alert_id: str, patch: Mapping[str, Any], *, version: int
    ) -> AlertReceipt:
        """JSON Merge Patch of the alert at ``version`` (412 PreconditionFailed if stale)."""
        return await self._run.call(calls.update(alert_id, patch, version))

    def history(self, alert_id: str, *, purpose: str | None = None) -> AsyncIterator[AlertVersion]:
        return self._run.iterate(calls.history(alert_id, purpose))

    async def links(self, alert_id: str, *, purpose: str) -> AlertLinks:
        return await self._run.call(calls.links(alert_id, purpose))

    def search(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        substance: Filter = None,
        origin: str | None = None,
        transit: str | None = None,
        destination: str | None = None,
        country: str | None = None,
        incident_type: Filter = None,
        status: Filter = None,
        reporting_agency: str | None = None,
        detected_after: date | str | None = None,
        detected_before: date | str | None = None,
        party: str | None = None,
        document: str | None = None,
        stage: Filter = None,
        substance_name: str | None = None,
    ) -> AsyncIterator[AlertSummary]:
        """Every alert matching the filters (AND; a list matches any of its values), newest
        first, fetched ``limit`` per page. ``party``/``document`` need ``purpose``."""
        filters = {k: v for k, v in locals().items() if k not in ("self", "purpose", "limit")}
        return self._run.iterate(calls.search(purpose, limit, filters))
