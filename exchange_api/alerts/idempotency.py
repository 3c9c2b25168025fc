"""``Idempotency-Key`` for creating alerts: a retried request gets the first answer, once.

Keys are scoped per client and kept in the database (``idempotency_keys``), so they hold across
workers and machines. The row stores a SHA-256 of the canonical JSON (RFC 8785) of the validated
body, and the receipt first given (id, version, dates and substances: routing facts only, no
sensitive field). The same key with the same body answers that receipt again (201, with
``Idempotent-Replayed: true``); with another body it is 409.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import rfc8785
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlmodel import Session

from exchange_api.alerts.errors import IdempotencyKeyReused
from exchange_api.alerts.repository import AlertRepository
from exchange_api.alerts.schemas import AlertCreate, AlertReceipt
from exchange_api.auth.caller import Caller
from exchange_api.models.types import utc_now

__all__ = ["IdempotentResult", "create_once", "request_hash"]


def request_hash(body: AlertCreate) -> str:
    """SHA-256 (hex) of the body's canonical JSON: equal for equal bodies, however formatted."""
    return hashlib.sha256(rfc8785.dumps(body.model_dump(mode="json"))).hexdigest()


@dataclass(frozen=True)
class IdempotentResult:
    receipt: AlertReceipt
    replayed: bool


def _replay(
    session: Session, caller: Caller, key: str, digest: str, *, kept: timedelta
) -> IdempotentResult | None:
    repository = AlertRepository(session)
    stored = repository.idempotency_key(caller.client_id, key)
    if stored is None:
        return None
    if stored.created_at < utc_now() - kept:
        repository.forget_idempotency_key(stored)  # expired: free, as if never used
        return None
    if stored.request_hash != digest:
        raise IdempotencyKeyReused()
    return IdempotentResult(AlertReceipt.model_validate(stored.response), replayed=True)


def create_once(
    session: Session,
    caller: Caller,
    key: str,
    body: AlertCreate,
    create: Callable[[], AlertReceipt],
    *,
    kept: timedelta,
) -> IdempotentResult:
    """Run ``create`` unless this client used ``key`` within ``kept``; answer as the first time."""
    digest = request_hash(body)
    earlier = _replay(session, caller, key, digest, kept=kept)
    if earlier is not None:
        return earlier
    try:
        with session.begin_nested():
            receipt = create()
            AlertRepository(session).remember_idempotency_key(
                client_id=caller.client_id,
                key=key,
                request_hash=digest,
                alert_id=receipt.id,
                response=receipt.model_dump(mode="json"),
                created_at=utc_now(),
            )
    except DatabaseIntegrityError:
        raced = _replay(session, caller, key, digest, kept=kept)
        if raced is None:
            raise
        return raced
    return IdempotentResult(receipt, replayed=False)
