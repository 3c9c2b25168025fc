"""Recording every refused access, from one place: the handler that renders domain errors.

A refusal ends its request with an exception, which rolls the request's transaction back — and
with it anything the recorder had buffered. So the one ``ProblemError`` handler records the
refusal itself, in a short transaction of its own, after the request's session is closed (on
SQLite that session held the write lock), and only then answers:

- 401 (no valid token; the client id is recorded when the token's signature verified),
- 403 (a scope missing, or a change to another agency's alert),
- any error whose class sets ``records_denial`` (see :class:`~exchange_api.errors.ProblemError`),
  naming the record refused in ``denied_resource``: a 404 for an alert that does not exist or
  that the caller may not see — the same answer to the caller, and the same ``access.denied``
  entry naming the alert id for the auditor — and a 410 for a visible alert whose content
  retention destroyed.

Each becomes an ``access.denied`` entry with outcome ``denied``, carrying the caller's
``X-Purpose`` when one was sent (and is one the endpoints would accept): a refused look keeps
the reason it was made. If it cannot be written, the
answer is 503 ``audit-unavailable`` instead: an unrecorded refusal is an audit failure too.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.recorder import AuditUnavailable, record_in_own_transaction
from exchange_api.errors import ProblemError, problem_error_response
from exchange_api.kit.dependencies import purpose_of

__all__ = ["install_denial_recording", "is_denial", "record_refusal"]

_DENIAL_STATUSES = frozenset({401, 403})


def is_denial(error: ProblemError) -> bool:
    """Whether ``error`` refuses the caller access (and so must be audited)."""
    return error.status in _DENIAL_STATUSES or error.records_denial


def record_refusal(request: Request, error: ProblemError) -> None:
    """Record ``error`` as an ``access.denied`` entry if it refuses the caller (:func:`is_denial`),
    in a transaction of its own; :class:`AuditUnavailable` if that cannot be written. The
    handler below calls it for every request; an answer that refuses after it began (an event
    stream whose token stopped being good) calls it itself, having no handler to reach."""
    if is_denial(error):
        _record_denial(request, error)


def _record_denial(request: Request, error: ProblemError) -> None:
    resource = error.denied_resource
    resource_ids = [resource] if resource is not None else []
    record_in_own_transaction(
        request,
        AuditAction.ACCESS_DENIED,
        outcome=Outcome.DENIED,
        resource_ids=resource_ids,
        purpose=purpose_of(request),
    )


async def _answer_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    try:
        await run_in_threadpool(record_refusal, request, exc)
    except AuditUnavailable as failure:
        return problem_error_response(failure)
    return problem_error_response(exc)


def install_denial_recording(app: FastAPI) -> None:
    """Make the ``ProblemError`` handler record refusals before answering them (it replaces the
    plain handler of :func:`~exchange_api.errors.install_error_handlers`; call it after)."""
    app.add_exception_handler(ProblemError, _answer_problem)
