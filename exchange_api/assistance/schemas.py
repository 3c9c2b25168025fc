"""API models of requests between agencies: what a sender writes, what a reply says, and what
either party reads back. Tables live in ``exchange_api.models.assistance``."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from exchange_api.kit.pagination import Page

__all__ = [
    "Box",
    "ReplyOutcome",
    "ReplyRead",
    "RequestCreate",
    "RequestKind",
    "RequestList",
    "RequestQuery",
    "RequestRead",
    "RequestReply",
    "RequestState",
    "RequestSummary",
    "Urgency",
]

RequestKind = Literal["backtracking", "information", "controlled_delivery", "judicial_use"]
Urgency = Literal["routine", "urgent", "immediate"]
ReplyOutcome = Literal["answered", "declined"]
RequestState = Literal["open", "answered", "declined", "overdue"]
Box = Literal["inbox", "outbox"]

# Tab, line feed and carriage return are text; every other control character (NUL included) is not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE_MAX_LENGTH = 10_000


def _plain_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters other than tab and line breaks")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Message = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MESSAGE_MAX_LENGTH),
    AfterValidator(_plain_text),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestCreate(_Strict):
    """A request to another agency about an alert both can see."""

    to: uuid.UUID = Field(description="The addressee agency's id (see GET /v1/agencies).")
    kind: RequestKind = Field(
        description="`judicial_use` asks permission to use H1 information in proceedings: "
        "it must be addressed to the alert's reporting agency."
    )
    message: Message = Field(description="What is asked (sealed at rest).")
    due_by: date = Field(description="Answer wanted by this day (UTC): today or later.")
    urgency: Urgency = "routine"


class RequestReply(_Strict):
    """The addressee's one answer to a request."""

    outcome: ReplyOutcome
    message: Message = Field(description="The answer, or why the request is declined (sealed).")


class RequestSummary(BaseModel):
    """A request's metadata, as lists show it: never its message nor its reply's."""

    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    alert_id: uuid.UUID
    from_: uuid.UUID = Field(alias="from", description="The sender agency.")
    to: uuid.UUID = Field(description="The addressee agency.")
    kind: RequestKind
    urgency: Urgency
    due_by: date
    state: RequestState = Field(
        description="`overdue`: still open after its `due_by` day (UTC), as of the request."
    )
    created_at: datetime
    replied_at: datetime | None


class ReplyRead(BaseModel):
    outcome: ReplyOutcome
    message: str
    at: datetime


class RequestRead(RequestSummary):
    """A request with its message and, once given, its reply: only its two agencies read it."""

    message: str
    reply: ReplyRead | None


class RequestList(Page[RequestSummary]):
    """One page of a box, newest first."""


class RequestQuery(_Strict):
    """Which requests to list: the caller's agency's inbox (the default) or outbox."""

    box: Box = Field(
        default="inbox",
        description="`inbox`: addressed to the caller's agency; `outbox`: sent by it.",
    )
    state: RequestState | None = None
    alert_id: uuid.UUID | None = None
    kind: RequestKind | None = None
    limit: int = Field(default=50, ge=1, le=200, description="Page size (default 50).")
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=400,
        description="`next_cursor` of the previous page.",
    )
