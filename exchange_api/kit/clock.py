"""The service's idea of "now" and "today", as one replaceable object.

Rules that depend on the date (a request is overdue the day after its ``due_by``; a follow-up
cannot have happened tomorrow) read the clock the app holds in ``app.state.clock`` through
``ClockDep``, never ``datetime.now()`` directly, so that a test can move time forward without
sleeping. Days are UTC days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["Clock", "FrozenClock"]


class Clock:
    """The wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FrozenClock(Clock):
    """A clock that shows a set time until moved (tests, demos that need a past)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, by: timedelta) -> None:
        self._at += by
