"""Follow-ups: what happened next to an alert along the penal chain (docs/contract.md, "3a").

Reads need ``purpose`` (``X-Purpose``). A create is not resent after a lost answer (the endpoint
does not replay an ``Idempotency-Key``): it raises :class:`~exchange_client.UncertainOutcome`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.models import FollowUpCreate, FollowUpRead, FollowUpReceipt

__all__ = ["AsyncFollowUps", "FollowUps", "calls"]


def _purpose(purpose: str) -> tuple[tuple[str, str], ...]:
    return (("X-Purpose", purpose),)


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def create(alert_id: str, body: FollowUpCreate | Mapping[str, Any]) -> Call[FollowUpReceipt]:
        return Call.post(f"/v1/alerts/{alert_id}/followups", as_json, dict(body))

    @staticmethod
    def list(alert_id: str, purpose: str, limit: int | None) -> Call[Page[FollowUpRead]]:
        path = f"/v1/alerts/{alert_id}/followups"
        return Call("GET", path, as_json, params=query(limit=limit), headers=_purpose(purpose))

    @staticmethod
    def get(alert_id: str, followup_id: str, purpose: str) -> Call[FollowUpRead]:
        path = f"/v1/alerts/{alert_id}/followups/{followup_id}"
        return Call("GET", path, as_json, headers=_purpose(purpose))


class FollowUps:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def create(self, alert_id: str, body: FollowUpCreate | Mapping[str, Any]) -> FollowUpReceipt:
        """Record a follow-up of a visible alert; ``corrects`` names one it corrects."""
        return self._run.call(calls.create(alert_id, body))

    def list(
        self, alert_id: str, *, purpose: str, limit: int | None = None
    ) -> Iterator[FollowUpRead]:
        """The alert's follow-ups the caller may see, oldest first."""
        return self._run.iterate(calls.list(alert_id, purpose, limit))

    def get(self, alert_id: str, followup_id: str, *, purpose: str) -> FollowUpRead:
        return self._run.call(calls.get(alert_id, followup_id, purpose))


class AsyncFollowUps:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    async def create(
        self, alert_id: str, body: FollowUpCreate | Mapping[str, Any]
    ) -> FollowUpReceipt:
        """Record a follow-up of a visible alert; ``corrects`` names one it corrects."""
        return await self._run.call(calls.create(alert_id, body))

    def list(
        self, alert_id: str, *, purpose: str, limit: int | None = None
    ) -> AsyncIterator[FollowUpRead]:
        """The alert's follow-ups the caller may see, oldest first."""
        return self._run.iterate(calls.list(alert_id, purpose, limit))

    async def get(self, alert_id: str, followup_id: str, *, purpose: str) -> FollowUpRead:
        return await self._run.call(calls.get(alert_id, followup_id, purpose))
