"""Events (scope ``alerts:read``): the feed, read page by page or followed, and the stream.

Every event's ``id`` is a cursor: pass the last one handled as ``after`` to resume after it
(docs/contract.md, "Events"). :meth:`Events.follow` long-polls the feed (``wait``) and
:meth:`Events.stream` reads the Server-Sent Events stream, opened again with ``Last-Event-ID``
after the connection drops; neither ends by itself. Both deliver at least once: a resumed
reader may see an event again, so handle events by ``id``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, cast

from exchange_client._core import AsyncRunner, Call, SyncRunner, as_json, query
from exchange_client._sse import ServerSentEvent
from exchange_client.models import Event, EventPage, EventType

__all__ = ["AsyncEvents", "Events", "calls"]

#: The longest the server holds an empty answer (seconds).
MAX_WAIT = 30.0


class calls:  # noqa: N801 -- a namespace of call builders
    @staticmethod
    def page(
        after: str | None,
        limit: int | None,
        types: Sequence[EventType],
        subscription: str | None,
        wait: float | None,
    ) -> Call[EventPage]:
        params = query(
            after=after, limit=limit, type=list(types), subscription=subscription, wait=wait
        )
        return Call("GET", "/v1/events", as_json, params=params)

    @staticmethod
    def stream(
        after: str | None, types: Sequence[EventType], subscription: str | None
    ) -> Call[Any]:
        params = query(after=after, type=list(types), subscription=subscription)
        headers = (("Accept", "text/event-stream"),)
        return Call("GET", "/v1/events", as_json, params=params, headers=headers)


def _event(message: ServerSentEvent) -> Event:
    return cast(Event, json.loads(message.data))


class Events:
    def __init__(self, runner: SyncRunner) -> None:
        self._run = runner

    def page(
        self,
        after: str | None = None,
        *,
        limit: int | None = None,
        types: Sequence[EventType] = (),
        subscription: str | None = None,
        wait: float | None = None,
    ) -> EventPage:
        """One page after ``after`` (default: the oldest event kept); ``next_cursor`` is never
        null. ``wait``: hold an empty answer up to that many seconds (at most 30)."""
        return self._run.call(calls.page(after, limit, types, subscription, wait))

    def follow(
        self,
        after: str | None = None,
        *,
        types: Sequence[EventType] = (),
        subscription: str | None = None,
        wait: float = MAX_WAIT,
    ) -> Iterator[Event]:
        """Every event after ``after``, then each new one as it comes (long-polling)."""
        while True:
            page = self.page(after, types=types, subscription=subscription, wait=wait)
            yield from page["items"]
            after = page["next_cursor"]

    def stream(
        self,
        after: str | None = None,
        *,
        types: Sequence[EventType] = (),
        subscription: str | None = None,
    ) -> Iterator[Event]:
        """Every event after ``after``, then each new one, from the Server-Sent Events stream."""
        for message in self._run.sse(calls.stream(after, types, subscription)):
            yield _event(message)


class AsyncEvents:
    def __init__(self, runner: AsyncRunner) -> None:
        self._run = runner

    async def page(
        self,
        after: str | None = None,
        *,
        limit: int | None = None,
        types: Sequence[EventType] = (),
        subscription: str | None = None,
        wait: float | None = None,
    ) -> EventPage:
        """One page after ``after`` (default: the oldest event kept); ``next_cursor`` is never
        null. ``wait``: hold an empty answer up to that many seconds (at most 30)."""
        return await self._run.call(calls.page(after, limit, types, subscription, wait))

    async def follow(
        self,
        after: str | None = None,
        *,
        types: Sequence[EventType] = (),
        subscription: str | None = None,
        wait: float = MAX_WAIT,
    ) -> AsyncIterator[Event]:
        """Every event after ``after``, then each new one as it comes (long-polling)."""
        while True:
            page = await self.page(after, types=types, subscription=subscription, wait=wait)
            for event in page["items"]:
                yield event
            after = page["next_cursor"]

    async def stream(
        self,
        after: str | None = None,
        *,
        types: Sequence[EventType] = (),
        subscription: str | None = None,
    ) -> AsyncIterator[Event]:
        """Every event after ``after``, then each new one, from the Server-Sent Events stream."""
        async for message in self._run.sse(calls.stream(after, types, subscription)):
            yield _event(message)
