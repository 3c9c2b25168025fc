"""The rules of requests between agencies: who may ask whom, about what, until when; who may
read and answer; what the audit log records.

- The sender must see the alert (404 like any alert read otherwise; 410 once it is shredded),
  and so must the addressee, by the alerts domain's own visibility condition (422
  ``addressee-cannot-see-alert``): a request never tells an agency of an alert it may not see.
- ``judicial_use`` (permission to use H1 information in proceedings) can only be asked of the
  alert's reporting agency: it is the provider whose permission counts.
- ``due_by`` is today or later by the app's clock (``exchange_api.kit.clock``); a request still
  unanswered after that day is ``overdue`` — derived when read, never stored.
- Only the two agencies see a request (others: 404, recorded as a refusal); only the addressee
  replies (403 for the sender), once (409 after).
- The messages are sealed under the alert's data key, bound to the request id and the field, so
  that retention's shredding of the alert shreds them too.

Services flush and never commit; each records its audit event through the recorder it is given.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session
from uuid_utils.compat import uuid7

from exchange_api.agencies.repository import AgencyRepository
from exchange_api.alerts.errors import AlertNotFound, BodyInvalid
from exchange_api.alerts.repository import AlertRepository
from exchange_api.alerts.sealing import attached_cipher
from exchange_api.assistance.errors import (
    AddresseeCannotSeeAlert,
    AlreadyReplied,
    NotAddressee,
    RequestNotFound,
)
from exchange_api.assistance.repository import AssistanceRepository, BoxFilters
from exchange_api.assistance.schemas import (
    ReplyRead,
    RequestCreate,
    RequestList,
    RequestQuery,
    RequestRead,
    RequestReply,
    RequestState,
    RequestSummary,
)
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring
from exchange_api.events.outbox import EventType, record_event
from exchange_api.kit.clock import Clock
from exchange_api.kit.pagination import UUID_KEYS, page_of
from exchange_api.models.assistance import AssistanceRequest

__all__ = ["create_request", "list_requests", "read_request", "reply_to_request", "state_of"]

_SEALED_AS = "request"
"""The record kind in the associated data of a request's sealed texts."""


def state_of(row: AssistanceRequest, today: date) -> RequestState:
    """``answered`` or ``declined`` once replied; else ``overdue`` after ``due_by``, or ``open``."""
    if row.outcome == "answered":
        return "answered"
    if row.outcome == "declined":
        return "declined"
    return "overdue" if row.due_by < today else "open"


def _summary(row: AssistanceRequest, clock: Clock) -> RequestSummary:
    return RequestSummary(
        id=row.id,
        alert_id=row.alert_id,
        from_=row.from_agency_id,
        to=row.to_agency_id,
        kind=row.kind,
        urgency=row.urgency,
        due_by=row.due_by,
        state=state_of(row, clock.today()),
        created_at=row.created_at,
        replied_at=row.replied_at,
    )


def _invalid(field: str, msg: str) -> BodyInvalid:
    return BodyInvalid([{"loc": ["body", field], "msg": msg}])


def create_request(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    caller: Caller,
    alert_id: uuid.UUID,
    body: RequestCreate,
    audit: AuditRecorder,
) -> RequestSummary:
    """Send a request about a visible alert to another agency that may see it too."""
    alert = AlertRepository(session).get_visible(caller, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    cipher = attached_cipher(keyring, alert)  # 410 once shredded: nothing left to ask about
    if body.due_by < clock.today():
        raise _invalid("due_by", "must be today or later")
    addressee = AgencyRepository(session).get_agency(body.to)
    if addressee is None:
        raise _invalid("to", "no such agency")
    if addressee.id == caller.agency_id:
        raise _invalid("to", "must be another agency than the caller's")
    if body.kind == "judicial_use" and addressee.id != alert.reporting_agency_id:
        raise _invalid("to", "judicial_use must be addressed to the alert's reporting agency")
    repository = AssistanceRepository(session)
    if not repository.alert_visible_to(alert_id, addressee.id, addressee.kind):
        raise AddresseeCannotSeeAlert()
    request_id = uuid7()
    row = AssistanceRequest(
        id=request_id,
        alert_id=alert_id,
        from_agency_id=caller.agency_id,
        to_agency_id=addressee.id,
        kind=body.kind,
        urgency=body.urgency,
        due_by=body.due_by,
        sealed_message=cipher.seal(_SEALED_AS, request_id, "message", body.message.encode()),
        created_at=clock.now(),
    )
    repository.add(row)
    record_event(
        session,
        EventType.REQUEST_CREATED,
        alert_id,
        request_id=request_id,
        only_agencies=(caller.agency_id, addressee.id),
    )
    audit.record(AuditAction.REQUEST_CREATE, resource_ids=[request_id, alert_id])
    return _summary(row, clock)


def list_requests(
    session: Session, clock: Clock, caller: Caller, query: RequestQuery, audit: AuditRecorder
) -> RequestList:
    """A page of the caller's agency's inbox or outbox, newest first: metadata only."""
    filters = BoxFilters(
        agency_id=caller.agency_id,
        outbox=query.box == "outbox",
        state=query.state,
        alert_id=query.alert_id,
        kind=query.kind,
        today=clock.today(),
    )
    before = UUID_KEYS.decode(query.cursor) if query.cursor is not None else None
    found = AssistanceRepository(session).box(filters, before=before, limit=query.limit + 1)
    page, next_cursor = page_of(found, query.limit, UUID_KEYS, lambda row: row.id)
    audit.record(
        AuditAction.REQUEST_LIST, resource_ids=[row.id for row in page], result_count=len(page)
    )
    return RequestList(items=[_summary(row, clock) for row in page], next_cursor=next_cursor)


def read_request(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    caller: Caller,
    request_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    purpose: str,
) -> RequestRead:
    """A request with its message and reply, for its two agencies; 410 once the alert is
    shredded (the texts went with its key; the metadata stays in the lists)."""
    found = AssistanceRepository(session).get_for_party(request_id, caller.agency_id)
    if found is None:
        raise RequestNotFound(request_id)
    row, alert = found
    cipher = attached_cipher(keyring, alert)
    if row.sealed_message is None:
        raise RuntimeError("a request of an unshredded alert without its message")
    message = cipher.open(_SEALED_AS, row.id, "message", row.sealed_message)
    reply = None
    fields = ["message"]
    if row.outcome is not None and row.sealed_reply is not None and row.replied_at is not None:
        text = cipher.open(_SEALED_AS, row.id, "reply", row.sealed_reply)
        reply = ReplyRead(outcome=row.outcome, message=text.decode(), at=row.replied_at)
        fields.append("reply")
    summary = _summary(row, clock)
    audit.record(
        AuditAction.REQUEST_READ,
        resource_ids=[request_id, row.alert_id],
        fields=fields,
        purpose=purpose,
    )
    return RequestRead(**summary.model_dump(), message=message.decode(), reply=reply)


def reply_to_request(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    caller: Caller,
    request_id: uuid.UUID,
    body: RequestReply,
    audit: AuditRecorder,
) -> RequestSummary:
    """The addressee's one reply: answered or declined, with a message."""
    repository = AssistanceRepository(session)
    found = repository.get_for_party(request_id, caller.agency_id)
    if found is None:
        raise RequestNotFound(request_id)
    row, alert = found
    if row.to_agency_id != caller.agency_id:
        raise NotAddressee()
    if row.outcome is not None:
        raise AlreadyReplied()
    cipher = attached_cipher(keyring, alert)
    sealed = cipher.seal(_SEALED_AS, row.id, "reply", body.message.encode())
    now = clock.now()
    if not repository.record_reply(row.id, body.outcome, sealed, now):
        raise AlreadyReplied()
    session.refresh(row)
    record_event(  # answered or declined: either way the request has its answer
        session,
        EventType.REQUEST_ANSWERED,
        row.alert_id,
        request_id=row.id,
        only_agencies=(row.from_agency_id, row.to_agency_id),
    )
    audit.record(AuditAction.REQUEST_REPLY, resource_ids=[request_id, row.alert_id])
    return _summary(row, clock)
