"""The audit recorder: the one way the rest of the service writes to the audit log.

An endpoint (or service) takes ``audit: AuditDep`` and says what happened::

    audit.record(AuditAction.ALERT_READ, resource_ids=[alert_id], fields=view.fields,
                 purpose=purpose)

The recorder fills in who and from where — the caller's token ``sub`` (the officer, when there is
one), client, agency and token id, the request id and the source address (the ASGI peer: proxy
headers are not trusted) — and *buffers* the event. The events go into the audit intake when the
request's transaction is about to commit (:func:`exchange_api.db.before_commit`), in that same
transaction: a change and its record commit together or not at all. (A read, whose only write
is its record, may run without a transaction on PostgreSQL: the record's one statement then
commits on its own, still before the answer; :func:`exchange_api.db.commit_each_statement`.)
The sequencer chains them moments later (:mod:`exchange_api.audit.appender`). If the intake
insert fails, the request fails with 503 ``audit-unavailable`` and the caller gets no content:
nothing is read or changed unrecorded.

If the endpoint raises instead, its transaction rolls back and its buffered events with it.
Refusals (401, 403, and 404 for an alert the caller may not see) are recorded by
:mod:`exchange_api.audit.denials` in a short transaction of their own, through
:func:`record_in_own_transaction`.

Only identifiers, counts, field-group *names* and the caller's stated purpose enter the log:
never the content of an alert.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.audit.appender import AuditEvent, AuditLog
from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.auth.caller import Caller
from exchange_api.db import before_commit
from exchange_api.errors import ServiceUnavailable
from exchange_api.kit.dependencies import SessionDep
from exchange_api.kit.failures import FailureLog

__all__ = [
    "AuditDep",
    "AuditIdentity",
    "AuditRecorder",
    "AuditUnavailable",
    "audit_unavailable",
    "get_audit_log",
    "get_audit_recorder",
    "record_in_own_transaction",
]

logger = logging.getLogger("exchange_api.audit")
#: A database outage fails every request's append the same way: one line a minute says so.
_append_failures = FailureLog(logger)


class AuditUnavailable(ServiceUnavailable):
    """503: the audit record could not be written, so the request did nothing (fail closed)."""

    slug = "audit-unavailable"
    title = "Audit log unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The audit record of this request could not be written: nothing was changed or "
            "returned. Try again later.",
            headers={"Retry-After": "5"},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditIdentity:
    """Who an entry is about: token ``sub``, client, agency and token id (each may be unknown)."""

    actor: str | None = None
    client_id: str | None = None
    agency: str | None = None
    token_id: str | None = None

    @classmethod
    def of_caller(cls, caller: Caller) -> AuditIdentity:
        return cls(
            actor=caller.subject,
            client_id=caller.client_id,
            agency=str(caller.agency_id),
            token_id=caller.token_id,
        )

    @classmethod
    def of_request(cls, request: Request) -> AuditIdentity:
        """The authenticated caller of ``request``, or as much as is known of a refused one:
        the client id of a token whose signature verified but which is no longer accepted."""
        caller = getattr(request.state, "caller", None)
        if isinstance(caller, Caller):
            return cls.of_caller(caller)
        client_id = getattr(request.state, "client_id", None)
        return cls(client_id=client_id if isinstance(client_id, str) else None)


class AuditRecorder:
    """Collects one request's audit events and submits them just before its commit."""

    def __init__(
        self,
        log: AuditLog,
        session: Session,
        *,
        request_id: str | None,
        source_ip: str | None,
        identity: Callable[[], AuditIdentity],
    ) -> None:
        self._log = log
        self._session = session
        self._request_id = request_id
        self._source_ip = source_ip
        self._identity = identity
        self._pending: list[AuditEvent] = []

    @classmethod
    def for_request(cls, request: Request, session: Session) -> AuditRecorder:
        return cls(
            get_audit_log(request),
            session,
            request_id=_request_id(request),
            source_ip=request.client.host if request.client is not None else None,
            identity=lambda: AuditIdentity.of_request(request),
        )

    @classmethod
    def acting_as(cls, log: AuditLog, session: Session, identity: AuditIdentity) -> AuditRecorder:
        """A recorder outside any request (a seed, a test), recording as ``identity``; its
        caller calls :meth:`flush` before committing."""
        return cls(log, session, request_id=None, source_ip=None, identity=lambda: identity)

    def record(
        self,
        action: AuditAction,
        *,
        outcome: Outcome = Outcome.ALLOWED,
        resource_ids: Sequence[str | uuid.UUID] = (),
        result_count: int | None = None,
        fields: Sequence[str] = (),
        purpose: str | None = None,
        identity: AuditIdentity | None = None,
    ) -> None:
        """Record that ``action`` happened, as the request's caller (or ``identity``, where the
        request has no access token: the token endpoint). Written at commit."""
        who = identity if identity is not None else self._identity()
        self._pending.append(
            AuditEvent(
                action=action,
                outcome=outcome,
                actor=who.actor,
                client_id=who.client_id,
                agency=who.agency,
                token_id=who.token_id,
                request_id=self._request_id,
                source_ip=self._source_ip,
                resource_ids=tuple(str(resource_id) for resource_id in resource_ids),
                result_count=result_count,
                fields=tuple(str(field) for field in fields),
                purpose=purpose,
            )
        )

    def flush(self) -> None:
        """Put the buffered events in the audit intake, in the session's transaction if it has
        one (503 if that fails)."""
        events, self._pending = self._pending, []
        if not events:
            return
        try:
            self._log.submit(self._session, events)
        except (SQLAlchemyError, ValueError) as exc:
            raise audit_unavailable(exc) from exc


def record_in_own_transaction(
    request: Request,
    action: AuditAction,
    *,
    outcome: Outcome,
    resource_ids: Sequence[str | uuid.UUID] = (),
    purpose: str | None = None,
) -> None:
    """Record ``action`` for ``request`` in a short transaction of its own, committed at once:
    for refusals, whose request transaction rolls back. 503 ``audit-unavailable`` if it fails.

    Call it after the request's session is closed: on SQLite that session held the write lock.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        recorder = AuditRecorder.for_request(request, session)
        recorder.record(action, outcome=outcome, resource_ids=resource_ids, purpose=purpose)
        recorder.flush()
        try:
            session.commit()
        except SQLAlchemyError as exc:
            raise audit_unavailable(exc) from exc


def audit_unavailable(exc: Exception) -> AuditUnavailable:
    """The 503 for a failed write to the log, ``exc`` logged by its type (once a minute)."""
    # The reason goes to the log by type only: the message may quote what was to be recorded.
    _append_failures.failed("audit append", exc)
    return AuditUnavailable()


def _request_id(request: Request) -> str | None:
    request_id = getattr(request.state, "request_id", None)
    return request_id if isinstance(request_id, str) else None


def get_audit_log(request: Request) -> AuditLog:
    log: AuditLog = request.app.state.audit_log
    return log


async def get_audit_recorder(request: Request, session: SessionDep) -> AuditRecorder:
    """The request's recorder, submitting in the request's own session just before it commits.
    (``async``: no I/O here, so no thread hop.)"""
    recorder = AuditRecorder.for_request(request, session)
    before_commit(session, recorder.flush)
    return recorder


AuditDep = Annotated[AuditRecorder, Depends(get_audit_recorder)]
