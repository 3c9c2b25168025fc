"""A worker's feed hub: wakes the long-polls and streams waiting in this worker.

Waiting for events must not hold a database connection or a worker thread: a waiting request
is a coroutine parked on an ``asyncio.Event``. The hub knows the newest ``seq`` (the head) this
worker has seen. This worker's sequencer tells it at once after each pass (:meth:`advance`);
events sequenced by other workers or machines are seen by polling the head row every
``poll`` seconds — one small query per worker, and only while something waits. Each advance
replaces the event it sets, so every waiter wakes once per advance and then reads the feed
itself (in a short transaction of its own).

:meth:`close` (at server shutdown) wakes every waiter for good, so streams end cleanly instead of
holding the shutdown until a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel
from starlette.concurrency import run_in_threadpool

from exchange_api.models.events import EventHead

__all__ = ["FeedHub"]

logger = logging.getLogger("exchange_api.events")

_HEAD = SQLModel.metadata.tables[EventHead.__tablename__]
_READ_HEAD = select(_HEAD.c.seq).where(_HEAD.c.id == 1)


class FeedHub:
    """See the module."""

    def __init__(self, engine: Engine, *, poll: float = 0.1) -> None:
        self._engine = engine
        self._poll = poll
        self._head = 0
        self._advanced = asyncio.Event()
        self._closed = False
        self._waiting = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        """How many requests wait in this worker now."""
        return self._waiting

    def advance(self, head: int) -> None:
        """The feed's head is now at least ``head`` (called on the event loop)."""
        if head > self._head:
            self._head = head
            woken, self._advanced = self._advanced, asyncio.Event()
            woken.set()

    def close(self) -> None:
        """Wake every waiter for good (the server is shutting down)."""
        self._closed = True
        self._advanced.set()

    async def wait_beyond(self, seq: int, seconds: float) -> bool:
        """Wait until the head passes ``seq`` (True), or ``seconds`` pass or shutdown (False)."""
        self._waiting += 1
        try:
            if self._head <= seq and not self._closed and seconds > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._advanced.wait(), seconds)
        finally:
            self._waiting -= 1
        return self._head > seq and not self._closed

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Poll the head while the block lasts; close the hub at the end."""
        self._closed = False
        task = asyncio.create_task(self._watch(), name="event-hub")
        try:
            yield
        finally:
            self.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            if not self._waiting:
                continue
            try:
                head = await run_in_threadpool(self._read_head)
            except SQLAlchemyError as exc:
                logger.warning(
                    "event head unreadable",
                    extra={"event": {"action": "event.watch", "error": type(exc).__name__}},
                )
                continue
            self.advance(head)

    def _read_head(self) -> int:
        with self._engine.connect() as connection:
            head: int = connection.execute(_READ_HEAD).scalar_one()
            return head
