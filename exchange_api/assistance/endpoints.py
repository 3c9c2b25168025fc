"""HTTP endpoints of requests between agencies (docs/contract.md, "Requests"): thin, each calls
one service, which also records the call in the audit log.

Mounted under ``/v1``, whose router already requires an authenticated caller; each endpoint
names its scope (``AlertsRead`` / ``AlertsWrite``: requests are part of working an alert).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from exchange_api.alerts.errors import AlertNotFound, AlertShredded, BodyInvalid
from exchange_api.assistance import service
from exchange_api.assistance.errors import (
    AddresseeCannotSeeAlert,
    AlreadyReplied,
    NotAddressee,
    RequestNotFound,
)
from exchange_api.assistance.schemas import (
    RequestCreate,
    RequestList,
    RequestQuery,
    RequestRead,
    RequestReply,
    RequestSummary,
)
from exchange_api.audit.recorder import AuditDep
from exchange_api.auth.scopes import AlertsRead, AlertsWrite
from exchange_api.errors import responses
from exchange_api.kit.dependencies import ClockDep, KeyringDep, SessionDep, require_purpose
from exchange_api.kit.pagination import next_link
from exchange_api.kit.query_params import forbid_unknown_query_params

__all__ = ["router"]

router = APIRouter(tags=["requests"])

RequestId = Annotated[uuid.UUID, Path(description="The request's id (a UUIDv7).")]

_NO_PARAMS = [Depends(forbid_unknown_query_params(()))]
_NOT_PARTY = RequestNotFound.response("No such request, or not one of the caller's agency's.")
_SHREDDED = AlertShredded.response("The alert is past its review date: the texts are destroyed.")


@router.post(
    "/alerts/{alert_id}/requests",
    status_code=201,
    response_model=RequestSummary,
    dependencies=_NO_PARAMS,
    responses=responses(
        AlertNotFound.response("No such alert, or not visible to the caller."),
        _SHREDDED,
        BodyInvalid.response(
            "The body fails validation: also a past `due_by`, a `to` that is no agency or "
            "the caller's own, or `judicial_use` not addressed to the reporting agency."
        ),
        AddresseeCannotSeeAlert.response("The addressee may not see the alert."),
    ),
)
def create_request(
    alert_id: Annotated[uuid.UUID, Path(description="The alert the request is about.")],
    body: RequestCreate,
    caller: AlertsWrite,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
    audit: AuditDep,
    response: Response,
) -> RequestSummary:
    """Ask another agency for help about an alert: backtracking, information, a controlled
    delivery, or permission to use H1 information in judicial proceedings (`judicial_use`,
    addressed to the alert's reporting agency only). Both agencies must be able to see the
    alert. `due_by` is today (UTC) or later. Answers 201 with `Location` and the request's
    metadata; the message is sealed at rest and shown only to the two agencies.
    """
    summary = service.create_request(session, keyring, clock, caller, alert_id, body, audit)
    response.headers["Location"] = f"/v1/requests/{summary.id}"
    return summary


@router.get(
    "/requests",
    response_model=RequestList,
    dependencies=[Depends(forbid_unknown_query_params(RequestQuery.model_fields))],
)
def list_requests(
    query: Annotated[RequestQuery, Query()],
    caller: AlertsRead,
    session: SessionDep,
    clock: ClockDep,
    audit: AuditDep,
    request: Request,
    response: Response,
) -> RequestList:
    """The caller's agency's requests, newest first: `box=inbox` (the default: addressed to it)
    or `box=outbox` (sent by it); filters `state` (`overdue`: open past `due_by`), `alert_id`,
    `kind`. Metadata only, never a message. Pages follow `next_cursor` (also `Link`)."""
    page = service.list_requests(session, clock, caller, query, audit)
    response.headers.update(next_link(request.url, page.next_cursor))
    return page


@router.get(
    "/requests/{request_id}",
    response_model=RequestRead,
    dependencies=_NO_PARAMS,
    responses=responses(_NOT_PARTY, _SHREDDED),
)
def read_request(
    request_id: RequestId,
    caller: AlertsRead,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
    audit: AuditDep,
    purpose: Annotated[str, Depends(require_purpose)],
) -> RequestRead:
    """Read a request with its message and reply, stating why (`X-Purpose`; 400 without).
    Only the sender's and the addressee's agencies may (404 for anyone else)."""
    return service.read_request(session, keyring, clock, caller, request_id, audit, purpose=purpose)


@router.post(
    "/requests/{request_id}/reply",
    response_model=RequestSummary,
    dependencies=_NO_PARAMS,
    responses=responses(
        _NOT_PARTY,
        _SHREDDED,
        NotAddressee.response("The caller's agency sent the request: only the addressee replies."),
        AlreadyReplied.response("The request was already replied to."),
    ),
)
def reply_to_request(
    request_id: RequestId,
    body: RequestReply,
    caller: AlertsWrite,
    session: SessionDep,
    keyring: KeyringDep,
    clock: ClockDep,
    audit: AuditDep,
) -> RequestSummary:
    """Answer or decline a request addressed to the caller's agency, once (409 after), with a
    message (sealed). Answers the request's metadata, now `answered` or `declined`."""
    return service.reply_to_request(session, keyring, clock, caller, request_id, body, audit)
