"""Watch lists: the rules (who owns one, what a filter becomes, the webhook's secret).

A watch list belongs to the client that made it: any other client gets 404, like for a record
it may not see. Its filter is stored as criteria rows for matching in SQL
(:mod:`~exchange_api.events.matching`); ``party`` and ``document`` become blind-index tags only
(they need ``X-Purpose``, like such a search) and are shown back as ``"<set>"``. A webhook's
URL passes the address checks (:mod:`~exchange_api.events.targets`) or the request is 422; its
signing secret is returned once and stored sealed by the keyring.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlmodel import Session
from uuid_utils.compat import uuid7

from exchange_api.alerts.errors import BodyInvalid
from exchange_api.alerts.tags import document_search_tags, party_search_tags
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring, new_webhook_secret, seal_webhook_secret, shown_secret
from exchange_api.events.errors import SubscriptionNotFound
from exchange_api.events.matching import tag_value
from exchange_api.events.repository import SubscriptionRepository
from exchange_api.events.schemas import (
    DeliveryList,
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionFilter,
    SubscriptionList,
    SubscriptionRead,
)
from exchange_api.events.service import event_id
from exchange_api.events.targets import TargetRefused, resolve_target
from exchange_api.kit.dependencies import PurposeRequired
from exchange_api.kit.pagination import INTEGER_KEYS, UUID_KEYS, page_of
from exchange_api.models.events import Subscription, WebhookDelivery
from exchange_api.models.types import utc_now
from exchange_api.reference.catalogue import substance_key

__all__ = [
    "create_subscription",
    "delete_subscription",
    "list_deliveries",
    "list_subscriptions",
    "read_subscription",
    "resume_subscription",
]

HIDDEN = "<set>"


def _criteria(
    keyring: Keyring, wanted: SubscriptionFilter, purpose: str | None
) -> list[tuple[str, str]]:
    """The filter as ``(kind, value)`` rows (see :mod:`~exchange_api.events.matching`)."""
    # Substances are watched by the key alerts store them under: a CAS number (the catalogue's
    # own for one of its other numbers), the catalogue entry a name matches, or the normalised
    # name of a substance nobody has listed yet — which is how a new one is watched.
    criteria: list[tuple[str, str]] = [
        ("substance", substance_key(cas, None)) for cas in wanted.substance
    ]
    if wanted.substance_name is not None:
        criteria.append(("substance_name", substance_key(None, wanted.substance_name)))
    for leg in ("origin", "transit", "destination", "country"):
        country = getattr(wanted, leg)
        if country is not None:
            criteria.append((leg, country))
    criteria.extend(("incident_type", kind) for kind in wanted.incident_type)
    blind: tuple[tuple[str, str | None, Callable[..., list[tuple[str, str]]]], ...] = (
        ("party", wanted.party, party_search_tags),
        ("document", wanted.document, document_search_tags),
    )
    for kind, value, tags_for in blind:
        if value is None:
            continue
        if purpose is None:
            raise PurposeRequired(f"A {kind} filter")
        tags = tags_for(keyring, value)
        if not tags:
            raise BodyInvalid(
                [{"loc": ["body", "filter", kind], "msg": "must contain letters or digits"}]
            )
        criteria.extend((kind, tag_value(field, tag)) for field, tag in tags)
    return criteria


def _shown_filter(wanted: SubscriptionFilter) -> dict[str, object]:
    shown = wanted.model_dump(mode="json", exclude_none=True)
    for kind in ("party", "document"):
        if kind in shown:
            shown[kind] = HIDDEN
    return {key: value for key, value in shown.items() if value != []}


def _read(row: Subscription) -> SubscriptionRead:
    return SubscriptionRead(
        id=row.id,
        name=row.name,
        filter=row.filter,
        webhook=None if row.webhook_url is None else {"url": row.webhook_url},
        state=row.state,
        created_at=row.created_at,
        failing_since=row.failing_since,
    )


def create_subscription(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    body: SubscriptionCreate,
    audit: AuditRecorder,
    *,
    purpose: str | None,
    allowed_hosts: frozenset[str],
) -> SubscriptionCreated:
    """A new watch list of the caller's client; with a webhook, its secret (shown once)."""
    criteria = _criteria(keyring, body.filter, purpose)
    subscription_id = uuid7()
    secret: bytes | None = None
    row = Subscription(
        id=subscription_id,
        client_id=caller.client_id,
        agency_id=caller.agency_id,
        name=body.name,
        filter=_shown_filter(body.filter),
        criteria_kinds=len({kind for kind, _ in criteria}),
        state="active",
        created_at=utc_now(),
    )
    if body.webhook is not None:
        try:
            resolve_target(body.webhook.url, allowed_hosts)
        except TargetRefused as exc:
            raise BodyInvalid([{"loc": ["body", "webhook", "url"], "msg": str(exc)}]) from None
        secret = new_webhook_secret()
        sealed = seal_webhook_secret(keyring, secret, subscription_id=str(subscription_id))
        row.webhook_url = body.webhook.url
        row.secret_kek_version = sealed.kek_version
        row.sealed_secret = sealed.blob
    SubscriptionRepository(session).add(row, criteria)
    audit.record(AuditAction.SUBSCRIPTION_CREATE, resource_ids=[subscription_id], purpose=purpose)
    return SubscriptionCreated(
        **_read(row).model_dump(), secret=None if secret is None else shown_secret(secret)
    )


def _owned(session: Session, caller: Caller, subscription_id: uuid.UUID) -> Subscription:
    row = SubscriptionRepository(session).get_owned(caller, subscription_id)
    if row is None:
        raise SubscriptionNotFound(subscription_id)
    return row


def read_subscription(
    session: Session, caller: Caller, subscription_id: uuid.UUID, audit: AuditRecorder
) -> SubscriptionRead:
    row = _owned(session, caller, subscription_id)
    audit.record(AuditAction.SUBSCRIPTION_READ, resource_ids=[subscription_id])
    return _read(row)


def list_subscriptions(
    session: Session, caller: Caller, audit: AuditRecorder, *, cursor: str | None, limit: int
) -> SubscriptionList:
    after = UUID_KEYS.decode(cursor) if cursor is not None else None
    found = SubscriptionRepository(session).list_owned(caller, after=after, limit=limit + 1)
    page, next_cursor = page_of(found, limit, UUID_KEYS, lambda row: row.id)
    audit.record(
        AuditAction.SUBSCRIPTION_READ,
        resource_ids=[row.id for row in page],
        result_count=len(page),
    )
    return SubscriptionList(items=[_read(row) for row in page], next_cursor=next_cursor)


def delete_subscription(
    session: Session, caller: Caller, subscription_id: uuid.UUID, audit: AuditRecorder
) -> None:
    """Forget a watch list, its matches and its deliveries (pending ones are not sent)."""
    _owned(session, caller, subscription_id)
    SubscriptionRepository(session).delete(subscription_id)
    audit.record(AuditAction.SUBSCRIPTION_DELETE, resource_ids=[subscription_id])


def resume_subscription(
    session: Session, caller: Caller, subscription_id: uuid.UUID, audit: AuditRecorder
) -> SubscriptionRead:
    """Make a failing watch list active again: what waits is retried now, for another day."""
    row = _owned(session, caller, subscription_id)
    repository = SubscriptionRepository(session)
    now = utc_now()
    repository.retry_pending_now(subscription_id, now)
    repository.set_state(subscription_id, {"state": "active", "failing_since": None})
    session.refresh(row)
    audit.record(AuditAction.SUBSCRIPTION_RESUME, resource_ids=[subscription_id])
    return _read(row)


def _delivery(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(
        event_id=event_id(row.seq),
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        next_attempt_at=row.next_attempt_at if row.state == "pending" else None,
    )


def list_deliveries(
    session: Session,
    caller: Caller,
    subscription_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    cursor: str | None,
    limit: int,
) -> DeliveryList:
    """A watch list's deliveries, newest event first: ids, states and statuses only."""
    _owned(session, caller, subscription_id)
    before = INTEGER_KEYS.decode(cursor) if cursor is not None else None
    found = SubscriptionRepository(session).deliveries(
        subscription_id, before=before, limit=limit + 1
    )
    page, next_cursor = page_of(found, limit, INTEGER_KEYS, lambda row: row.seq)
    audit.record(
        AuditAction.SUBSCRIPTION_READ, resource_ids=[subscription_id], result_count=len(page)
    )
    return DeliveryList(items=[_delivery(row) for row in page], next_cursor=next_cursor)
