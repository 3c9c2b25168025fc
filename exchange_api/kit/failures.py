"""One log line per kind of failure and interval, however many requests meet it.

When a dependency is down (the database, the rate-limit store), every request fails the same
way; a stack trace per request would bury the log. :class:`FailureLog` writes the first failure
of a kind at once, counts the next ones, and writes one line again (with the count of those it
held back) once the interval has passed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

__all__ = ["FailureLog"]


class FailureLog:
    """Throttled error lines, one per ``kind`` and ``interval`` seconds (thread-safe)."""

    def __init__(self, logger: logging.Logger, *, interval: float = 60.0) -> None:
        self._logger = logger
        self._interval = interval
        self._last: dict[str, float] = {}
        self._held_back: Counter[str] = Counter()
        self._lock = threading.Lock()

    def failed(self, kind: str, error: BaseException) -> None:
        """``kind`` failed with ``error``: log it, unless a line for ``kind`` is recent. Only the
        error's type is written: its message may quote a value (a query's parameters)."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval:
                self._held_back[kind] += 1
                return
            self._last[kind] = now
            held_back = self._held_back.pop(kind, 0)
        self._logger.error(
            "dependency failure",
            extra={
                "event": {
                    "failure": kind,
                    "error": type(error).__name__,
                    "held_back": held_back,
                    "interval_s": self._interval,
                }
            },
        )
