"""The sequencer: chains the audit intake into the log, shortly after requests commit.

Each worker runs one (:meth:`AuditSequencer.running`, in the app's lifespan). A commit that put
entries in the intake wakes it (a SQLAlchemy ``after_commit`` listener on the worker's session
factory); it then waits ``gather`` seconds (250 ms), so that one chaining transaction takes the
entries of every request that committed meanwhile, and chains the intake until it is empty. It
also looks every ``idle`` seconds unwoken, which chains what another worker or machine left
behind if its sequencer stopped. Sequencers of different workers take the same chain-head lock,
so they take turns; the one that waited finds the intake already chained and does nothing.

The lag between a request's commit and its entries' seqs is about a quarter of a second (a pass
costs a few milliseconds of CPU whatever its size: gathering longer makes passes rarer). Readers
of the log do not see it: they chain the intake first (:func:`drain_intake`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.audit.appender import CHAIN_BATCH, SUBMITTED, AuditLog

__all__ = ["AuditSequencer", "drain_intake"]

logger = logging.getLogger("exchange_api.audit")


def drain_intake(log: AuditLog, session_factory: sessionmaker[Session]) -> int:
    """Chain the whole intake, a batch per transaction; return how many entries were chained.
    (Entries committed during the last batch are the next pass's: every such commit wakes it.)"""
    chained = 0
    while True:
        with session_factory.begin() as session:
            count = log.chain_intake(session)
        chained += count
        if count < CHAIN_BATCH:
            return chained


class AuditSequencer:
    """One worker's sequencer (see the module)."""

    def __init__(
        self,
        log: AuditLog,
        session_factory: sessionmaker[Session],
        *,
        gather: float = 0.25,
        idle: float = 1.0,
    ) -> None:
        self._log = log
        self._session_factory = session_factory
        self._gather = gather
        self._idle = idle
        self._woken = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def wake(self) -> None:
        """Ask for a chaining pass soon; callable from any thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the shutdown drain follows
                loop.call_soon_threadsafe(self._woken.set)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(SUBMITTED, False):
            self.wake()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the sequencer for as long as the block lasts; chain what is left at the end.

        A pass in progress is never cancelled (its thread would go on with a connection of a
        pool being disposed): stopping lets it finish, then makes the last pass."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        event.listen(self._session_factory, "after_commit", self._after_commit)
        task = asyncio.create_task(self._run(), name="audit-sequencer")
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
            await asyncio.sleep(self._gather)
            self._woken.clear()
            await self._pass()
        await self._pass()

    async def _pass(self) -> None:
        try:
            await run_in_threadpool(drain_intake, self._log, self._session_factory)
        except SQLAlchemyError as exc:
            # The database away: the entries wait in the intake, durable, for the next pass.
            logger.warning(
                "audit chaining deferred",
                extra={"event": {"action": "audit.chain", "error": type(exc).__name__}},
            )
