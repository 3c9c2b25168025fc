"""Webhook delivery: claimed, checked, signed, sent, retried; every attempt audited.

Each worker runs a :class:`WebhookDispatcher` for its lifespan. The sequencer wakes it after a
pass that may have queued deliveries; it also looks every second. A round claims due deliveries
(:func:`~exchange_api.events.deliveries.claim_due`: a lease, ``SKIP LOCKED`` on PostgreSQL, so
workers share the queue), then, for each, outside any transaction:

1. in a short transaction: the watch list, the event and its alert; whether the list's agency
   may read the event **now** (the feed's condition). If not, the delivery is ``refused`` and
   nothing is sent;
2. the URL's address checks again (:mod:`~exchange_api.events.targets`), then a POST to the
   checked address, signed the Standard Webhooks way, 10 s timeout, no redirects (a 3xx fails);
3. in a short transaction: the outcome (``delivered`` on a 2xx; otherwise the next attempt after
   a growing delay — 10 s, 30 s, 1, 5, 15, 30 min, then hourly — until 24 hours have passed:
   then the delivery is ``expired`` and the watch list ``failing`` until resumed) and an
   ``event.deliver`` audit entry (ids, status and outcome only).

At least once: a worker killed after step 2 and before step 3 leaves the lease to expire, and
the delivery is sent again. Receivers deduplicate on ``webhook-id``. Nothing sealed is ever in
a payload (events hold ids and routing facts), and log lines name ids only — never the URL,
which may carry the receiver's own token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.audit.appender import AuditLog
from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring, WrappedDek, open_webhook_secret, webhook_signature
from exchange_api.events.deliveries import Claimed, claim_due, record_attempt
from exchange_api.events.repository import EventRepository, SubscriptionRepository
from exchange_api.events.service import event_id, event_of
from exchange_api.events.targets import TargetRefused, resolve_target
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.models.events import Subscription
from exchange_api.models.types import utc_now

__all__ = ["RETRY_STEPS", "WebhookDispatcher", "retry_delay"]

logger = logging.getLogger("exchange_api.events")

RETRY_STEPS: tuple[float, ...] = (1, 3, 6, 30, 90, 180, 360)
"""The delays before the 1st, 2nd, … retry, in units of the first (10 s by default: 10 s, 30 s,
1, 5, 15, 30 min, then hourly); the last one repeats."""
GIVE_UP_AFTER = timedelta(hours=24)
TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=TIMEOUT_SECONDS + 5)
"""Longer than an attempt can take (timeout included), so a live worker's claim never lapses."""


def retry_delay(attempts: int, first: float) -> timedelta:
    """The delay before the next attempt after ``attempts`` failed ones."""
    return timedelta(seconds=first * RETRY_STEPS[min(attempts, len(RETRY_STEPS)) - 1])


@dataclass(frozen=True, slots=True)
class _Prepared:
    url: str
    secret: bytes
    body: bytes
    message_id: str
    alert_id: uuid.UUID | None
    identity: AuditIdentity


def _resources(alert_id: uuid.UUID | None, subscription_id: uuid.UUID) -> list[str]:
    """A delivery's audited ids: the event's alert (if it has one) and the watch list."""
    return [str(alert_id), str(subscription_id)] if alert_id else [str(subscription_id)]


class WebhookDispatcher:
    """One worker's webhook sender (see the module)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        keyring: Keyring,
        audit_log: AuditLog,
        *,
        allowed_hosts: frozenset[str],
        idle: float = 1.0,
        batch: int = 200,
        concurrency: int = 50,
        first_retry: float = 10.0,
    ) -> None:
        self._first_retry = first_retry
        self._session_factory = session_factory
        self._keyring = keyring
        self._audit_log = audit_log
        self._allowed_hosts = allowed_hosts
        self._idle = idle
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._woken = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for due deliveries now (called on the event loop)."""
        self._woken.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Deliver while the block lasts. At the end, attempts in flight finish; what is left
        stays queued for the next start (or another worker)."""
        self._stopping = False
        async with httpx.AsyncClient(
            follow_redirects=False, timeout=TIMEOUT_SECONDS, trust_env=False
        ) as http:
            task = asyncio.create_task(self._run(http), name="webhook-dispatcher")
            try:
                yield
            finally:
                self._stopping = True
                self._woken.set()
                await task

    async def _run(self, http: httpx.AsyncClient) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._idle)
            self._woken.clear()
            while not self._stopping:
                try:
                    claimed = await run_in_threadpool(self._claim)
                except SQLAlchemyError as exc:
                    logger.warning(
                        "webhook claim deferred",
                        extra={"event": {"action": "event.deliver", "error": type(exc).__name__}},
                    )
                    break
                if not claimed:
                    break
                await asyncio.gather(*(self._deliver(http, item) for item in claimed))

    def _claim(self) -> list[Claimed]:
        with self._session_factory.begin() as session:
            return claim_due(session, utc_now(), lease=LEASE, limit=self._batch)

    async def _deliver(self, http: httpx.AsyncClient, item: Claimed) -> None:
        async with self._slots:
            try:
                await self._attempt(http, item)
            except SQLAlchemyError as exc:
                # The lease runs out and another round sends it again.
                logger.warning(
                    "webhook delivery deferred",
                    extra={"event": {"action": "event.deliver", "error": type(exc).__name__}},
                )

    async def _attempt(self, http: httpx.AsyncClient, item: Claimed) -> None:
        prepared = await run_in_threadpool(self._prepare, item)
        if prepared is None:
            return
        status: int | None = None
        error: str | None = None
        try:
            target = await run_in_threadpool(resolve_target, prepared.url, self._allowed_hosts)
        except TargetRefused:
            error = "target-refused"
        else:
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "host": target.host_header,
                "webhook-id": prepared.message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": webhook_signature(
                    prepared.secret, prepared.message_id, timestamp, prepared.body
                ),
            }
            try:
                response = await http.post(
                    target.url,
                    content=prepared.body,
                    headers=headers,
                    extensions={"sni_hostname": target.server_name},
                )
                status = response.status_code
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        await run_in_threadpool(self._record, item, prepared, status, error)

    def _prepare(self, item: Claimed) -> _Prepared | None:
        """What to send, or None when nothing may be sent (the delivery is then closed)."""
        with self._session_factory.begin() as session:
            subscription = session.get(Subscription, item.subscription_id)
            found = EventRepository(session).event(item.seq)
            if subscription is None or subscription.webhook_url is None or found is None:
                return None  # the list or the event is gone: its rows went with it
            agency = session.get(Agency, subscription.agency_id)
            assert agency is not None  # a foreign key
            caller = Caller(
                subject=subscription.client_id,
                client_id=subscription.client_id,
                agency_id=subscription.agency_id,
                agency_kind=AgencyKind(agency.kind),
                scopes=frozenset(),
                token_id="",
            )
            identity = AuditIdentity(
                actor=subscription.client_id,
                client_id=subscription.client_id,
                agency=str(subscription.agency_id),
            )
            record, alert, substance = found
            repository = EventRepository(session)
            if not repository.readable(caller, item.seq):
                now = utc_now()
                record_attempt(
                    session,
                    item,
                    state="refused",
                    status=None,
                    error="not-visible",
                    next_attempt_at=now,
                    now=now,
                )
                audit = AuditRecorder.acting_as(self._audit_log, session, identity)
                audit.record(
                    AuditAction.EVENT_DELIVER,
                    outcome=Outcome.DENIED,
                    resource_ids=_resources(record.alert_id, subscription.id),
                )
                audit.flush()
                return None
            matches = repository.matches_of(subscription.client_id, [item.seq])
            body = event_of(record, alert, substance, matches.get(item.seq, [])).model_dump_json()
            assert subscription.secret_kek_version is not None
            assert subscription.sealed_secret is not None
            secret = open_webhook_secret(
                self._keyring,
                WrappedDek(subscription.secret_kek_version, subscription.sealed_secret),
                subscription_id=str(subscription.id),
            )
            return _Prepared(
                url=subscription.webhook_url,
                secret=secret,
                body=body.encode(),
                message_id=event_id(item.seq),
                alert_id=record.alert_id,
                identity=identity,
            )

    def _record(
        self, item: Claimed, prepared: _Prepared, status: int | None, error: str | None
    ) -> None:
        now = utc_now()
        delivered = status is not None and 200 <= status < 300
        expired = not delivered and now - item.created_at >= GIVE_UP_AFTER
        state = "delivered" if delivered else "expired" if expired else "pending"
        next_attempt: datetime = (
            now if delivered or expired else now + retry_delay(item.attempts, self._first_retry)
        )
        with self._session_factory.begin() as session:
            record_attempt(
                session,
                item,
                state=state,
                status=status,
                error=error,
                next_attempt_at=next_attempt,
                now=now,
            )
            if expired:
                SubscriptionRepository(session).set_state(
                    item.subscription_id, {"state": "failing", "failing_since": now}
                )
            audit = AuditRecorder.acting_as(self._audit_log, session, prepared.identity)
            audit.record(
                AuditAction.EVENT_DELIVER,
                outcome=Outcome.ALLOWED if delivered else Outcome.ERROR,
                resource_ids=_resources(prepared.alert_id, item.subscription_id),
                result_count=status,
            )
            audit.flush()
        logger.info(
            "webhook attempt",
            extra={
                "event": {
                    "action": "event.deliver",
                    "subscription": str(item.subscription_id),
                    "event_id": prepared.message_id,
                    "status": status,
                    "error": error,
                    "state": state,
                }
            },
        )
