"""Requests between agencies about an alert (docs/contract.md, "11. Requests").

Only the sender's and the addressee's agencies see a request; only the addressee replies, once
(:class:`~exchange_client.errors.NotAddressee`, :class:`~exchange_client.errors.AlreadyReplied`).
Neither a create nor a reply is resent after a lost answer (the endpoints do not replay an
``Idempotency-Key``): that raises :class:`~exchange_client.UncertainOutcome`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, query
from exchange_client.models import RequestCreate, RequestRead, RequestSummary

__all__ = ["AsyncRequests", "Requests", "calls"]

Box = Literal["inbox", "outbox"]
Outcome = Literal["answered", "declined"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def create(alert_id: str, body: RequestCreate | Mapping[str, Any]) -> Call[RequestSummary]:
        return Call.post(f"/v1/alerts/{alert_id}/requests", as_json, dict(body))

    @staticmethod
    def box(
        box: Box, limit: int | None, filters: Mapping[str, str | None]
    ) -> Call[Page[RequestSummary]]:
        return Call("GET", "/v1/requests", as_json, params=query(box=box, **filters, limit=limit))

    @staticmethod
    def get(request_id: str, purpose: str) -> Call[RequestRead]:
        headers = (("X-Purpose", purpose),)
        return Call("GET", f"/v1/requests/{request_id}", as_json, headers=headers)

    @staticmethod
    def reply(request_id: str, outcome: Outcome, message: str) -> Call[RequestSummary]:
        body = {"outcome": outcome, "message": message}
        return Call.post(f"/v1/requests/{request_id}/reply", as_json, body)


class Requests:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def create(self, alert_id: str, body: RequestCreate | Mapping[str, Any]) -> RequestSummary:
        """Ask another agency (``to``) for help about an alert both may see."""
        return self._run.call(calls.create(alert_id, body))

    def box(
        self,
        box: Box = "inbox",
        *,
        state: str | None = None,
        alert_id: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> Iterator[RequestSummary]:
        """The requests addressed to the caller's agency (``inbox``) or sent by it
        (``outbox``), newest first: metadata only."""
        filters = {"state": state, "alert_id": alert_id, "kind": kind}
        return self._run.iterate(calls.box(box, limit, filters))

    def get(self, request_id: str, *, purpose: str) -> RequestRead:
        """The request with its ``message`` and ``reply``."""
        return self._run.call(calls.get(request_id, purpose))

    def reply(self, request_id: str, outcome: Outcome, message: str) -> RequestSummary:
        return self._run.call(calls.reply(request_id, outcome, message))


class AsyncRequests:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    async def create(
        self, alert_id: str, body: RequestCreate | Mapping[str, Any]
    ) -> RequestSummary:
        """Ask another agency (``to``) for help about an alert both may see."""
        return await self._run.call(calls.create(alert_id, body))

    def box(
        self,
        box: Box = "inbox",
        *,
        state: str | None = None,
        alert_id: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[RequestSummary]:
        """The requests addressed to the caller's agency (``inbox``) or sent by it
        (``outbox``), newest first: metadata only."""
        filters = {"state": state, "alert_id": alert_id, "kind": kind}
        return self._run.iterate(calls.box(box, limit, filters))

    async def get(self, request_id: str, *, purpose: str) -> RequestRead:
        """The request with its ``message`` and ``reply``."""
        return await self._run.call(calls.get(request_id, purpose))

    async def reply(self, request_id: str, outcome: Outcome, message: str) -> RequestSummary:
        return await self._run.call(calls.reply(request_id, outcome, message))
