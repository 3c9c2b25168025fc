"""``Idempotency-Key`` for creating alerts, one or a batch: a retried request gets the first
answer, once.

Keys are scoped per client and kept in the database (``idempotency_keys``), so they hold across
workers and machines. The row stores a SHA-256 of the canonical JSON (RFC 8785) of the body (a
single alert as validated, a batch as sent), and the answer first given (a receipt, or a batch's
results: ids, routing facts and problem documents, never a sensitive field). The same key with
the same body answers that again (``Idempotent-Replayed: true``); with another body it is 409. A
batch that went in while its answer was lost on the way can so be sent again safely, which is
what the client SDK's ``exchange push`` does after a dropped connection or a killed run.

A key is remembered for ``EXCHANGE_IDEMPOTENCY_KEY_DAYS`` (7): long enough for an agency system
to retry through a weekend's outage, short enough that the table does not grow for ever. After
that the key is free again — a request with it creates a new alert — and the retention pass
deletes the row.

Two requests racing with one key: each creates its alert inside a savepoint and then inserts the
key. The second insert waits for the first transaction (PostgreSQL's unique index; SQLite runs one
writer at a time anyway) and then fails; its savepoint is rolled back, so its alert is never
written, and it answers from the winner's row.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

import rfc8785
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlmodel import Session

from exchange_api.alerts.errors import BodyInvalid, IdempotencyKeyReused
from exchange_api.alerts.repository import AlertRepository
from exchange_api.audit.chain import CanonicalizationError, canonical_json
from exchange_api.auth.caller import Caller
from exchange_api.models.types import utc_now

__all__ = ["IdempotentResult", "request_hash", "run_once"]

AnswerT = TypeVar("AnswerT", bound=BaseModel)


def request_hash(body: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the canonical JSON of a body (a JSON object): equal for equal bodies,
    however formatted.

    Every keyed batch is hashed, so the common body takes the audit chain's fast canonicaliser
    (byte for byte the RFC 8785 form, at a fraction of the cost); what it will not take (a tiny
    or huge float, an astral key, deep nesting) goes through the ``rfc8785`` package. A number
    JSON can carry but RFC 8785 cannot (NaN, or an integer past 2**53 in a raw batch item) is
    refused as the body's fault (422), not hashed some other way."""
    try:
        canonical = canonical_json(body, floats=True)
    except CanonicalizationError:
        try:
            canonical = rfc8785.dumps(body)  # type: ignore[arg-type]
        except rfc8785.CanonicalizationError:
            raise BodyInvalid(
                [{"loc": ["body"], "msg": "holds a number JSON cannot carry"}]
            ) from None
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class IdempotentResult(Generic[AnswerT]):
    answer: AnswerT
    replayed: bool


def _replay(
    session: Session,
    caller: Caller,
    key: str,
    digest: str,
    answer_type: type[AnswerT],
    *,
    kept: timedelta,
) -> IdempotentResult[AnswerT] | None:
    repository = AlertRepository(session)
    stored = repository.idempotency_key(caller.client_id, key)
    if stored is None:
        return None
    if stored.created_at < utc_now() - kept:
        repository.forget_idempotency_key(stored)  # expired: free, as if never used
        return None
    if stored.request_hash != digest:
        raise IdempotencyKeyReused()
    return IdempotentResult(answer_type.model_validate(stored.response), replayed=True)


def run_once(
    session: Session,
    caller: Caller,
    key: str,
    body: Mapping[str, object],
    run: Callable[[], AnswerT],
    *,
    answer_type: type[AnswerT],
    alert_of: Callable[[AnswerT], uuid.UUID | None],
    kept: timedelta,
) -> IdempotentResult[AnswerT]:
    """Run ``run`` unless this client used ``key`` within ``kept`` for ``body`` (the request's
    JSON value); answer as the first time. ``alert_of`` names the alert the answer created (none
    for a batch that stored nothing)."""
    digest = request_hash(body)
    earlier = _replay(session, caller, key, digest, answer_type, kept=kept)
    if earlier is not None:
        return earlier
    try:
        with session.begin_nested():
            answer = run()
            AlertRepository(session).remember_idempotency_key(
                client_id=caller.client_id,
                key=key,
                request_hash=digest,
                alert_id=alert_of(answer),
                response=answer.model_dump(mode="json"),
                created_at=utc_now(),
            )
    except DatabaseIntegrityError:
        raced = _replay(session, caller, key, digest, answer_type, kept=kept)
        if raced is None:
            raise
        return raced
    return IdempotentResult(answer, replayed=False)
