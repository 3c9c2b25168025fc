"""Webhook delivery: claimed, checked, signed, sent, retried; every attempt audited.

Each worker runs a :class:`WebhookDispatcher` for its lifespan. The sequencer wakes it after a
pass that may have queued deliveries; it also looks every second. A round claims a batch of due
deliveries (:func:`~exchange_api.events.deliveries.claim_due`: a lease, ``SKIP LOCKED`` on
PostgreSQL, so workers share the queue), then, outside any transaction, for the whole batch:

1. in one short transaction: the watch lists, the events and their alerts (a query each);
   whether each list's agency may read its event **now** — the feed's condition, one statement
   for every (agency, event) pair of the batch. A delivery its agency may not read is
   ``refused`` and nothing is sent. Each list's secret is unsealed once, each event's body is
   made once per client (the body names the client's matching lists, the same for all of them);
2. each host of the batch is looked up once (:func:`~exchange_api.events.targets.lookup`), then,
   right before each request, every address found is checked again
   (:func:`~exchange_api.events.targets.checked_target`) and the POST goes to the checked
   address, signed the Standard Webhooks way, 10 s timeout, no redirects (a 3xx fails); up to
   ``concurrency`` requests at once. A host that does not resolve now is a failed attempt
   (``unresolved``), retried like a refused connection;
3. in one short transaction: the outcomes (``delivered`` on a 2xx; otherwise the next attempt
   after a growing delay — 10 s, 30 s, 1, 5, 15, 30 min, then hourly — until 24 hours have
   passed: then the delivery is ``expired`` and the watch list ``failing`` until resumed) and an
   ``event.deliver`` audit entry for each delivery (ids, status and outcome only).

Receivers' certificates are checked against the system's certificate authorities and those of
``EXCHANGE_WEBHOOK_CA_FILE``, for the URL's host name; a certificate that fails is a failed
attempt (``certificate-wrong-name`` or ``certificate-untrusted``), retried like any other, and
nothing is sent.

A failure of the database or the audit log ends the round: what it claimed stays leased. Any
other failure (a secret that does not unseal, a bug) is logged at error level, by its type only,
and the sender goes on: a batch that cannot be prepared is prepared again one delivery at a
time, so that one delivery holds up no other; the one that fails, or a whole batch that fails
later, stays leased.

At least once: a worker killed after step 2 and before step 3 leaves the leases to expire, and
the deliveries are sent again. Receivers deduplicate on ``webhook-id``. Nothing sealed is ever
in a payload (events hold ids and routing facts), and log lines name ids only — never the URL,
which may carry the receiver's own token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.audit.appender import AuditLog
from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder, AuditUnavailable
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring, WrappedDek, open_webhook_secret, webhook_signature
from exchange_api.events.deliveries import Attempt, Claimed, claim_due, record_attempts
from exchange_api.events.repository import EventRepository, SubscriptionRepository
from exchange_api.events.service import event_id, event_of
from exchange_api.events.targets import (
    Destination,
    TargetRefused,
    checked_target,
    destination_of,
    lookup,
)
from exchange_api.models.agencies import AgencyKind
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


_DEFERRED = (SQLAlchemyError, AuditUnavailable)
"""Failures of what the sender depends on: the round ends, its claims wait for their leases."""
_WRONG_NAME = {62, 64}
"""OpenSSL's ``X509_V_ERR_HOSTNAME_MISMATCH`` and ``X509_V_ERR_IP_ADDRESS_MISMATCH``."""


def retry_delay(attempts: int, first: float) -> timedelta:
    """The delay before the next attempt after ``attempts`` failed ones."""
    return timedelta(seconds=first * RETRY_STEPS[min(attempts, len(RETRY_STEPS)) - 1])


@dataclass(frozen=True, slots=True)
class _Prepared:
    item: Claimed
    destination: Destination | None
    """None: the URL itself is refused (see :mod:`~exchange_api.events.targets`)."""
    secret: bytes
    body: bytes
    message_id: str
    alert_id: uuid.UUID | None
    identity: AuditIdentity


_Sent = tuple[_Prepared, int | None, str | None]
"""A delivery attempted: its HTTP status, or the error that kept it from one."""


def _resources(alert_id: uuid.UUID | None, subscription_id: uuid.UUID) -> list[str]:
    """A delivery's audited ids: the event's alert (if it has one) and the watch list."""
    return [str(alert_id), str(subscription_id)] if alert_id else [str(subscription_id)]


def _identity(subscription: Subscription) -> AuditIdentity:
    """Whom a delivery is audited for: the watch list's client and agency."""
    client = subscription.client_id
    return AuditIdentity(actor=client, client_id=client, agency=str(subscription.agency_id))


def _viewer(subscription: Subscription, kind: AgencyKind) -> Caller:
    """The watch list's client as a reader of the feed (visibility depends on its agency)."""
    return Caller(
        subject=subscription.client_id,
        client_id=subscription.client_id,
        agency_id=subscription.agency_id,
        agency_kind=kind,
        scopes=frozenset(),
        token_id="",
    )


def _unanswered(exc: aiohttp.ClientError) -> str:
    """``last_error`` of a request that got no answer: why the receiver's certificate was
    refused, or the client's exception name (never its text, which holds the address)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        code = getattr(exc.certificate_error, "verify_code", None)
        return "certificate-wrong-name" if code in _WRONG_NAME else "certificate-untrusted"
    return type(exc).__name__


def _log_failure(message: str, exc: Exception, item: Claimed | None = None) -> None:
    """An unexpected failure of the sender, at error level: its type and ids only (an
    exception's text may hold what must not be logged)."""
    event = {"action": "event.deliver", "error": type(exc).__name__}
    if item is not None:
        event |= {"subscription": str(item.subscription_id), "event_id": event_id(item.seq)}
    logger.error(message, extra={"event": event})


def _addresses(host: str, port: int) -> tuple[str, ...]:
    """``host``'s addresses, none if it does not resolve now (blocking): a failed attempt
    (``unresolved``), retried like a refused connection, since resolvers also fail for a while
    (``EAI_AGAIN``, a busy machine)."""
    try:
        return lookup(host, port)
    except TargetRefused:
        return ()


async def _post(
    http: aiohttp.ClientSession,
    prepared: _Prepared,
    destination: Destination,
    addresses: dict[tuple[str, int], tuple[str, ...]],
) -> _Sent:
    """Every address found for the host checked, then the signed POST to the checked one (the
    host in ``Host`` and as the TLS server name, which also keys the connection pool)."""
    found = addresses[destination.host, destination.port]
    if not found:
        return prepared, None, "unresolved"
    try:
        target = checked_target(destination, found)
    except TargetRefused:
        return prepared, None, "target-refused"
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
        async with http.post(
            str(target.url),
            data=prepared.body,
            headers=headers,
            server_hostname=target.server_name,
            allow_redirects=False,
        ) as response:
            # The answer's body is never read: an unread one closes its connection.
            return prepared, response.status, None
    except TimeoutError:
        return prepared, None, "timeout"
    except aiohttp.ClientError as exc:
        return prepared, None, _unanswered(exc)


class WebhookDispatcher:
    """One worker's webhook sender (see the module)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        keyring: Keyring,
        audit_log: AuditLog,
        *,
        allowed_hosts: frozenset[str],
        tls: ssl.SSLContext,
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
        self._tls = tls
        self._idle = idle
        self._batch = batch
        self._concurrency = concurrency
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
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._concurrency, ssl=self._tls),
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            trust_env=False,
        ) as http:
            task = asyncio.create_task(self._run(http), name="webhook-dispatcher")
            try:
                yield
            finally:
                self._stopping = True
                self._woken.set()
                await task

    async def _run(self, http: aiohttp.ClientSession) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._idle)
            self._woken.clear()
            while not self._stopping:
                try:
                    claimed = await run_in_threadpool(self._claim)
                    if not claimed:
                        break
                    await self._deliver(http, claimed)
                except _DEFERRED as exc:
                    # What was claimed stays leased: another round sends it after the lease.
                    logger.warning(
                        "webhook delivery deferred",
                        extra={"event": {"action": "event.deliver", "error": type(exc).__name__}},
                    )
                    break
                except Exception as exc:  # a bug must not end the sender: as after a crash
                    _log_failure("webhook batch failed; retried after its leases", exc)
                    break

    def _claim(self) -> list[Claimed]:
        with self._session_factory.begin() as session:
            return claim_due(session, utc_now(), lease=LEASE, limit=self._batch)

    async def _deliver(self, http: aiohttp.ClientSession, claimed: list[Claimed]) -> None:
        """One claimed batch: prepared, its hosts looked up, sent, recorded (see the module)."""
        prepared = await self._prepared(claimed)
        hosts = list(
            dict.fromkeys(
                (item.destination.host, item.destination.port)
                for item in prepared
                if item.destination is not None
            )
        )
        found = await asyncio.gather(
            *(run_in_threadpool(_addresses, host, port) for host, port in hosts)
        )
        addresses = dict(zip(hosts, found, strict=True))
        sent = await asyncio.gather(*(self._send(http, item, addresses) for item in prepared))
        await run_in_threadpool(self._record, sent)

    async def _prepared(self, claimed: list[Claimed]) -> list[_Prepared]:
        """:meth:`_prepare` for the batch or, if that fails unexpectedly, for each delivery
        alone: one that cannot be prepared (a secret that does not unseal, a bug) then holds
        up no other, and stays leased."""
        try:
            return await run_in_threadpool(self._prepare, claimed)
        except _DEFERRED:
            raise
        except Exception as exc:
            _log_failure("webhook batch not prepared; preparing each delivery alone", exc)
        prepared: list[_Prepared] = []
        for item in claimed:
            try:
                prepared += await run_in_threadpool(self._prepare, [item])
            except _DEFERRED:
                raise
            except Exception as exc:
                _log_failure("webhook delivery not prepared; retried after its lease", exc, item)
        return prepared

    async def _send(
        self,
        http: aiohttp.ClientSession,
        prepared: _Prepared,
        addresses: dict[tuple[str, int], tuple[str, ...]],
    ) -> _Sent:
        if prepared.destination is None:
            return prepared, None, "target-refused"
        # Waiting here, not for a pooled connection: the timeout is the request's alone.
        async with self._slots:
            return await _post(http, prepared, prepared.destination, addresses)

    def _prepare(self, claimed: list[Claimed]) -> list[_Prepared]:
        """What to send for each of ``claimed`` that may be sent; the others are closed: a
        delivery whose list or event is gone went with them, one its agency may not read now,
        or whose client is disabled, is recorded ``refused``. (A disabled client's tokens stop
        working at once; its webhooks stop at their next delivery. Enabled again, it reads
        what it missed from the feed, which keeps 30 days.)"""
        with self._session_factory.begin() as session:
            repository = EventRepository(session)
            lists = SubscriptionRepository(session).webhooks(
                {item.subscription_id for item in claimed}
            )
            found = repository.events({item.seq for item in claimed})
            present = [
                item for item in claimed if item.subscription_id in lists and item.seq in found
            ]
            enabled = [item for item in present if not lists[item.subscription_id][2]]
            asked: dict[uuid.UUID, tuple[Caller, set[int]]] = {}
            for item in enabled:
                subscription, kind, _ = lists[item.subscription_id]
                viewer = asked.setdefault(
                    subscription.agency_id, (_viewer(subscription, kind), set())
                )
                viewer[1].add(item.seq)
            readable = repository.readable_among(list(asked.values()))
            matches = repository.matches_of(
                {lists[item.subscription_id][0].client_id for item in enabled},
                {item.seq for item in enabled},
            )
            now = utc_now()
            audit = AuditRecorder.acting_as(self._audit_log, session, AuditIdentity())
            refused: list[Attempt] = []
            prepared: list[_Prepared] = []
            secrets: dict[uuid.UUID, bytes] = {}
            bodies: dict[tuple[str, int], bytes] = {}
            for item in present:
                subscription, _, client_disabled = lists[item.subscription_id]
                record, alert, substance = found[item.seq]
                identity = _identity(subscription)
                if client_disabled or (subscription.agency_id, item.seq) not in readable:
                    reason = "client-disabled" if client_disabled else "not-visible"
                    refused.append(Attempt(item, "refused", None, reason, now))
                    audit.record(
                        AuditAction.EVENT_DELIVER,
                        outcome=Outcome.DENIED,
                        resource_ids=_resources(record.alert_id, subscription.id),
                        identity=identity,
                    )
                    continue
                key = (subscription.client_id, item.seq)
                if key not in bodies:
                    event = event_of(record, alert, substance, matches.get(key, []))
                    bodies[key] = event.model_dump_json().encode()
                if subscription.id not in secrets:
                    secrets[subscription.id] = self._secret_of(subscription)
                prepared.append(
                    _Prepared(
                        item=item,
                        destination=self._destination_of(subscription),
                        secret=secrets[subscription.id],
                        body=bodies[key],
                        message_id=event_id(item.seq),
                        alert_id=record.alert_id,
                        identity=identity,
                    )
                )
            record_attempts(session, refused, now)
            audit.flush()
            return prepared

    def _secret_of(self, subscription: Subscription) -> bytes:
        assert subscription.secret_kek_version is not None
        assert subscription.sealed_secret is not None
        return open_webhook_secret(
            self._keyring,
            WrappedDek(subscription.secret_kek_version, subscription.sealed_secret),
            subscription_id=str(subscription.id),
        )

    def _destination_of(self, subscription: Subscription) -> Destination | None:
        assert subscription.webhook_url is not None
        try:
            return destination_of(subscription.webhook_url, self._allowed_hosts)
        except TargetRefused:
            return None

    def _attempt_of(self, sent: _Sent, now: datetime) -> Attempt:
        """What an attempt's outcome means for its delivery (see the module, step 3)."""
        prepared, status, error = sent
        item = prepared.item
        delivered = status is not None and 200 <= status < 300
        expired = not delivered and now - item.created_at >= GIVE_UP_AFTER
        state = "delivered" if delivered else "expired" if expired else "pending"
        next_attempt: datetime = (
            now if delivered or expired else now + retry_delay(item.attempts, self._first_retry)
        )
        return Attempt(item, state, status, error, next_attempt)

    def _record(self, sent: list[_Sent]) -> None:
        now = utc_now()
        attempts = [self._attempt_of(one, now) for one in sent]
        with self._session_factory.begin() as session:
            record_attempts(session, attempts, now)
            subscriptions = SubscriptionRepository(session)
            for failing in dict.fromkeys(
                attempt.item.subscription_id for attempt in attempts if attempt.state == "expired"
            ):
                subscriptions.set_state(failing, {"state": "failing", "failing_since": now})
            audit = AuditRecorder.acting_as(self._audit_log, session, AuditIdentity())
            for (prepared, status, _), attempt in zip(sent, attempts, strict=True):
                audit.record(
                    AuditAction.EVENT_DELIVER,
                    outcome=Outcome.ALLOWED if attempt.state == "delivered" else Outcome.ERROR,
                    resource_ids=_resources(prepared.alert_id, attempt.item.subscription_id),
                    result_count=status,
                    identity=prepared.identity,
                )
            audit.flush()
        for (prepared, status, error), attempt in zip(sent, attempts, strict=True):
            logger.info(
                "webhook attempt",
                extra={
                    "event": {
                        "action": "event.deliver",
                        "subscription": str(attempt.item.subscription_id),
                        "event_id": prepared.message_id,
                        "status": status,
                        "error": error,
                        "state": attempt.state,
                    }
                },
            )
