"""The errors of the events domain."""

from __future__ import annotations

import uuid

from exchange_api.errors import NotFound, ProblemError

__all__ = ["CursorExpired", "SubscriptionNotFound"]


class CursorExpired(ProblemError):
    """410: the cursor points before the oldest event kept (30 days)."""

    status = 410
    slug = "cursor-expired"
    title = "Cursor expired"

    def __init__(self) -> None:
        super().__init__(
            "Events are kept 30 days and this cursor is older: resume without `after` (the "
            "oldest event kept) and catch up through search."
        )


class SubscriptionNotFound(NotFound):
    """No such watch list, or another client's: the same answer either way."""

    records_denial = True

    def __init__(self, subscription_id: uuid.UUID) -> None:
        super().__init__("No watch list with this id belongs to the caller.")
        self.denied_resource = subscription_id
