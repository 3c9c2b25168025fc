"""Watch lists (scope ``alerts:read``): a filter over events, optionally delivered to a webhook
(docs/contract.md, "Watch lists"). A list belongs to the client that made it. Read the events a
list matched with ``events.follow(subscription=…)`` or ``events.stream(subscription=…)``.

A webhook's ``secret`` is in the answer to :meth:`Subscriptions.create` only: keep it there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from exchange_client._core import AsyncRunner, Call, Page, SyncRunner, as_json, no_result, query
from exchange_client.models import (
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)

__all__ = ["AsyncSubscriptions", "Subscriptions", "calls"]


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def create(
        body: SubscriptionCreate | Mapping[str, Any], purpose: str | None
    ) -> Call[SubscriptionCreated]:
        headers = () if purpose is None else (("X-Purpose", purpose),)
        return Call.post("/v1/subscriptions", as_json, dict(body), headers=headers)

    @staticmethod
    def list(limit: int | None) -> Call[Page[SubscriptionRead]]:
        return Call("GET", "/v1/subscriptions", as_json, params=query(limit=limit))

    @staticmethod
    def get(subscription_id: str) -> Call[SubscriptionRead]:
        return Call("GET", f"/v1/subscriptions/{subscription_id}", as_json)

    @staticmethod
    def delete(subscription_id: str) -> Call[None]:
        return Call("DELETE", f"/v1/subscriptions/{subscription_id}", no_result)

    @staticmethod
    def deliveries(subscription_id: str, limit: int | None) -> Call[Page[DeliveryRead]]:
        path = f"/v1/subscriptions/{subscription_id}/deliveries"
        return Call("GET", path, as_json, params=query(limit=limit))

    @staticmethod
    def resume(subscription_id: str) -> Call[SubscriptionRead]:
        # Resuming twice is resuming once: safe to resend after a lost answer.
        path = f"/v1/subscriptions/{subscription_id}/resume"
        return Call.post(path, as_json, None, replays_idempotency_key=True)


class Subscriptions:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def create(
        self, body: SubscriptionCreate | Mapping[str, Any], *, purpose: str | None = None
    ) -> SubscriptionCreated:
        """A new watch list; ``purpose`` is needed for a ``party`` or ``document`` filter."""
        return self._run.call(calls.create(body, purpose))

    def list(self, *, limit: int | None = None) -> Iterator[SubscriptionRead]:
        """This client's watch lists, oldest first."""
        return self._run.iterate(calls.list(limit))

    def get(self, subscription_id: str) -> SubscriptionRead:
        return self._run.call(calls.get(subscription_id))

    def delete(self, subscription_id: str) -> None:
        """Delete the list; its waiting deliveries are not sent."""
        self._run.call(calls.delete(subscription_id))

    def deliveries(
        self, subscription_id: str, *, limit: int | None = None
    ) -> Iterator[DeliveryRead]:
        """The list's webhook deliveries, newest event first."""
        return self._run.iterate(calls.deliveries(subscription_id, limit))

    def resume(self, subscription_id: str) -> SubscriptionRead:
        """Make a ``failing`` list ``active`` again; what waited is retried now."""
        return self._run.call(calls.resume(subscription_id))


class AsyncSubscriptions:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    async def create(
        self, body: SubscriptionCreate | Mapping[str, Any], *, purpose: str | None = None
    ) -> SubscriptionCreated:
        """A new watch list; ``purpose`` is needed for a ``party`` or ``document`` filter."""
        return await self._run.call(calls.create(body, purpose))

    def list(self, *, limit: int | None = None) -> AsyncIterator[SubscriptionRead]:
        """This client's watch lists, oldest first."""
        return self._run.iterate(calls.list(limit))

    async def get(self, subscription_id: str) -> SubscriptionRead:
        return await self._run.call(calls.get(subscription_id))

    async def delete(self, subscription_id: str) -> None:
        """Delete the list; its waiting deliveries are not sent."""
        await self._run.call(calls.delete(subscription_id))

    def deliveries(
        self, subscription_id: str, *, limit: int | None = None
    ) -> AsyncIterator[DeliveryRead]:
        """The list's webhook deliveries, newest event first."""
        return self._run.iterate(calls.deliveries(subscription_id, limit))

    async def resume(self, subscription_id: str) -> SubscriptionRead:
        """Make a ``failing`` list ``active`` again; what waited is retried now."""
        return await self._run.call(calls.resume(subscription_id))
