"""A worker's background jobs (the audit checkpoints, retention) live as long as its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

__all__ = ["background_task"]


@contextlib.asynccontextmanager
async def background_task(job: Coroutine[Any, Any, None], *, name: str) -> AsyncIterator[None]:
    """Run ``job`` as a task while the block lasts; cancel it at the end.

    A job's database work runs in the threadpool: cancelling stops the job at its next
    ``await``, and the transaction in progress finishes or rolls back on its own.
    """
    task = asyncio.create_task(job, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
