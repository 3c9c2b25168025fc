"""The time-based checkpoints: a small task in every worker's lifespan.

Every quarter of ``checkpoint_interval`` each worker asks :meth:`AuditLog.checkpoint_if_due`,
which signs a checkpoint only if there are entries since the latest one and that one is at
least an interval old. The check runs under the chain-head lock, so however many workers and
machines ask, a quiet minute gets one checkpoint and an idle log none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.audit.appender import AuditLog
from exchange_api.tasks import background_task

__all__ = ["periodic_checkpoints"]

logger = logging.getLogger("exchange_api.audit")


def _checkpoint_if_due(log: AuditLog, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        checkpoint = log.checkpoint_if_due(session)
    if checkpoint is not None:
        logger.info("audit checkpoint signed", extra={"event": {"seq": checkpoint.seq}})


async def _run(log: AuditLog, session_factory: sessionmaker[Session]) -> None:
    period = log.checkpoint_interval.total_seconds() / 4
    while True:
        await asyncio.sleep(period)
        try:
            await run_in_threadpool(_checkpoint_if_due, log, session_factory)
        except SQLAlchemyError as exc:
            # Another worker's checkpoint at the same seq, or the database away: try next time.
            logger.warning(
                "audit checkpoint skipped",
                extra={"event": {"action": "audit.checkpoint", "error": type(exc).__name__}},
            )


@contextlib.asynccontextmanager
async def periodic_checkpoints(
    log: AuditLog, session_factory: sessionmaker[Session]
) -> AsyncIterator[None]:
    """Run the checkpoint task for as long as the block lasts (the app's lifespan)."""
    async with background_task(_run(log, session_factory), name="audit-checkpoints"):
        yield
