"""The sequencer: chains the audit intake into the log, shortly after requests commit.

Each worker runs one (:meth:`AuditSequencer.running`, in the app's lifespan; the loop is
:class:`~exchange_api.kit.commit_woken.CommitWokenLoop`). A commit that put entries in the intake
wakes it; it then waits ``gather`` seconds (250 ms), so that one chaining transaction takes the
entries of every request that committed meanwhile, and chains the intake until it is empty. It
also looks every ``idle`` seconds unwoken, which chains what another worker or machine left
behind if its sequencer stopped. Sequencers of different workers take the same chain-head lock,
so they take turns; the one that waited finds the intake already chained and does nothing.

The lag between a request's commit and its entries' seqs is about a quarter of a second (a pass
costs a few milliseconds of CPU whatever its size: gathering longer makes passes rarer). Readers
of the log do not see it: they chain the intake first (:func:`drain_intake`).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit.appender import CHAIN_BATCH, SUBMITTED, AuditLog
from exchange_api.kit.commit_woken import CommitWokenLoop

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


class AuditSequencer(CommitWokenLoop):
    """One worker's sequencer (see the module)."""

    def __init__(
        self,
        log: AuditLog,
        session_factory: sessionmaker[Session],
        *,
        gather: float = 0.25,
        idle: float = 1.0,
    ) -> None:
        super().__init__(
            session_factory, flag=SUBMITTED, name="audit-sequencer", idle=idle, gather=gather
        )
        self._log = log

    async def _pass(self) -> None:
        await self.deferrable(
            lambda: drain_intake(self._log, self._session_factory),
            logger,
            deferred="audit chaining deferred",
            action="audit.chain",
        )
