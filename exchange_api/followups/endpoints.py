"""HTTP endpoints of follow-ups (docs/contract.md, "Follow-ups"): thin, each calls one service,
which also records the call in the audit log.

The endpoints are ``async``: their service call and the commit take one trip to a worker thread
(:func:`~exchange_api.kit.dependencies.run_then_commit`), and their answer is written once. The
reads' statements each commit on their own on PostgreSQL, and their answer is written from plain
values (:func:`~exchange_api.kit.responses.json_response`).

Mounted under ``/v1``, whose router already requires an authenticated caller; each endpoint
names its scope with ``AlertsRead`` / ``AlertsWrite``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic_core import to_json

from exchange_api.alerts.errors import AlertNotFound, AlertShredded
from exchange_api.audit.recorder import AuditDep
from exchange_api.auth.scopes import AlertsRead, AlertsWrite
from exchange_api.errors import responses
from exchange_api.followups import service
from exchange_api.followups.errors import FollowUpNotFound
from exchange_api.followups.schemas import (
    FollowUpCreate,
    FollowUpList,
    FollowUpRead,
    FollowUpReceipt,
)
from exchange_api.kit.dependencies import (
    ClockDep,
    KeyringDep,
    PurposeHeader,
    PurposeRequired,
    SessionDep,
    run_then_commit,
)
from exchange_api.kit.pagination import CursorQuery, LimitQuery, PlainPage, next_link
from exchange_api.kit.query_params import forbid_unknown_query_params
from exchange_api.kit.responses import json_response, model_response

__all__ = ["router"]

router = APIRouter(prefix="/alerts/{alert_id}/followups", tags=["followups"])

AlertId = Annotated[uuid.UUID, Path(description="The alert's id (a UUIDv7).")]
FollowUpId = Annotated[uuid.UUID, Path(description="The follow-up's id (a UUIDv7).")]

_NOT_VISIBLE = AlertNotFound.response("No such alert, or not visible to the caller.")
_SHREDDED = AlertShredded.response("The alert passed its review date: its texts were destroyed.")


async def require_purpose(purpose: PurposeHeader = None) -> str:
    """The ``X-Purpose`` of a read of follow-ups; 400 ``purpose-required`` without one."""
    if purpose is None:
        raise PurposeRequired("Reading follow-ups")
    return purpose


Purpose = Annotated[str, Depends(require_purpose)]


@router.post(
    "",
    status_code=201,
    response_model=FollowUpReceipt,
    dependencies=[Depends(forbid_unknown_query_params(()))],
    responses=responses(_NOT_VISIBLE, _SHREDDED),
)
async def create_followup(
    alert_id: AlertId,
    body: FollowUpCreate,
    caller: AlertsWrite,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
    audit: AuditDep,
) -> Response:
    """Record what happened next to an alert the caller's agency sees: a step of the penal
    chain (`kind`, in order: investigation_opened … case_closed) or a `note`.

    Follow-ups are immutable; to correct one of your agency's, send a new one whose `corrects`
    names it. `summary` and `reference` are sealed under the alert's key and withheld from
    regulators. `distribution` `{"scope": "agencies", "agencies": [...]}` narrows who sees it to
    the listed agencies that also see the alert (the alert's reporting agency and your agency
    always do). Answers 201 with `Location`; the alert's version and ETag do not change.
    """

    def create() -> FollowUpReceipt:
        return service.create_followup(session, keyring, clock, caller, alert_id, body, audit)

    receipt = await run_then_commit(session, create)
    location = f"/v1/alerts/{alert_id}/followups/{receipt.id}"
    return model_response(receipt, status_code=201, headers={"Location": location})


@router.get(
    "",
    response_model=FollowUpList,
    dependencies=[Depends(forbid_unknown_query_params(("cursor", "limit")))],
    responses=responses(_NOT_VISIBLE, _SHREDDED),
)
async def list_followups(
    alert_id: AlertId,
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    audit: AuditDep,
    purpose: Purpose,
    request: Request,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Response:
    """The follow-ups of an alert that the caller may see, oldest first, stating why
    (`X-Purpose`; 400 without).

    Texts the caller's agency kind may not read are absent and listed in `withheld`. Pages
    follow `next_cursor` (also a `Link: rel="next"` header). An alert past its review date is
    410 `alert-shredded`: its follow-ups' texts were destroyed with it.
    """

    def read() -> PlainPage:
        return service.list_followups(
            session, keyring, caller, alert_id, audit, purpose=purpose, cursor=cursor, limit=limit
        )

    page = await run_then_commit(session, read, reads_only=True)
    return json_response(page.json(), headers=next_link(request.url, page.next_cursor))


@router.get(
    "/{followup_id}",
    response_model=FollowUpRead,
    dependencies=[Depends(forbid_unknown_query_params(()))],
    responses=responses(
        _SHREDDED,
        FollowUpNotFound.response("No such alert or follow-up, or not visible to the caller."),
    ),
)
async def read_followup(
    alert_id: AlertId,
    followup_id: FollowUpId,
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    audit: AuditDep,
    purpose: Purpose,
) -> Response:
    """One follow-up of an alert, as in the list (`X-Purpose` needed)."""

    def read() -> dict[str, Any]:
        return service.read_followup(
            session, keyring, caller, alert_id, followup_id, audit, purpose=purpose
        )

    followup = await run_then_commit(session, read, reads_only=True)
    return json_response(to_json(followup))
