"""The problems the follow-ups domain raises besides the alerts' own (404 and 410 of the alert)."""

from __future__ import annotations

import uuid

from exchange_api.errors import NotFound

__all__ = ["FollowUpNotFound"]


class FollowUpNotFound(NotFound):
    """No such follow-up of the alert, or one the caller may not see: the same answer either way,
    recorded as a refusal naming the follow-up."""

    records_denial = True

    def __init__(self, followup_id: uuid.UUID) -> None:
        super().__init__("No follow-up with this id is visible to the caller.")
        self.denied_resource = followup_id
