"""A worker's background pass that a commit wakes: the loop both sequencers share.

The audit and event sequencers do the same thing with different tables: a request commits rows
into an intake and marks its session (``session.info[flag]``); an ``after_commit`` listener on
the worker's session factory wakes the loop, which runs a pass in a thread; unwoken, it looks
every ``idle`` seconds anyway (what another worker or machine left behind when it stopped). A
pass is never cancelled — its thread holds a connection of a pool about to be disposed — so
stopping lets it finish and then makes one last pass. A database that is away defers the pass:
the rows wait, durable, in the intake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

__all__ = ["CommitWokenLoop"]

T = TypeVar("T")


class CommitWokenLoop(ABC):
    """Run :meth:`_pass` when a commit that set ``session.info[flag]`` wakes the loop, after
    ``gather`` seconds (so that one pass takes what several requests committed meanwhile), or
    every ``idle`` seconds."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        flag: str,
        name: str,
        idle: float,
        gather: float = 0.0,
    ) -> None:
        self._session_factory = session_factory
        self._flag = flag
        self._name = name
        self._idle = idle
        self._gather = gather
        self._woken = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @abstractmethod
    async def _pass(self) -> None:
        """One pass over the intake."""

    async def _after_pass(self) -> None:  # noqa: B027 (a hook: most loops need none)
        """What a loop does between passes besides waiting (nothing unless overridden)."""

    def wake(self) -> None:
        """Ask for a pass now; callable from any thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the last pass follows
                loop.call_soon_threadsafe(self._woken.set)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(self._flag, False):
            self.wake()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run for as long as the block lasts; a last pass takes what is left at the end."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        event.listen(self._session_factory, "after_commit", self._after_commit)
        task = asyncio.create_task(self._run(), name=self._name)
        try:
            yield
        finally:
            event.remove(self._session_factory, "after_commit", self._after_commit)
            self._loop = None
            self._stopping = True
            self._woken.set()
            await task

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._idle)
            if self._stopping:
                break
            if self._gather:
                await asyncio.sleep(self._gather)
            self._woken.clear()
            await self._pass()
            await self._after_pass()
        await self._pass()

    @staticmethod
    async def deferrable(
        work: Callable[[], T], logger: logging.Logger, *, deferred: str, action: str
    ) -> T | None:
        """``work()`` in a thread; ``None`` (and a warning naming only the error's type) when the
        database is away."""
        try:
            return await run_in_threadpool(work)
        except SQLAlchemyError as exc:
            logger.warning(
                deferred, extra={"event": {"action": action, "error": type(exc).__name__}}
            )
            return None
