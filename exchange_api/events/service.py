"""The feed: events the caller may read, after its cursor, oldest first.

Visibility is decided now, when the feed is read — by the same SQL condition as search — not
when the event was produced: an event about an alert whose distribution has since been narrowed
away from the caller is not delivered. Reading is audited like a search (``event.read``, the
alert ids delivered); a long-poll that waited records one entry, for the answer it gave.

``next_cursor`` is never null. When the page is not full, the whole window up to the head was
read, so the cursor moves to the head: events the caller may not read are not scanned again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from exchange_api.alerts import records
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.events.errors import CursorExpired, SubscriptionNotFound
from exchange_api.events.outbox import EventType
from exchange_api.events.repository import EventRepository, SubscriptionRepository
from exchange_api.events.schemas import Event, EventPage, EventQuery, EventSubstance
from exchange_api.kit.pagination import INTEGER_KEYS, InvalidCursor
from exchange_api.models.alerts import Alert
from exchange_api.models.events import EmergingSubstance, EventRecord
from exchange_api.reference.schemas import NAME_KEY_PREFIX

__all__ = ["FeedOutcome", "event_id", "event_of", "read_events", "substance_of"]


def event_id(seq: int) -> str:
    """The public id (and cursor) of the event ``seq``."""
    return INTEGER_KEYS.encode(seq)


def event_of(
    record: EventRecord,
    alert: Alert | None,
    substance: EmergingSubstance | None,
    subscriptions: list[uuid.UUID],
) -> Event:
    """An event as delivered: its ids, the given watch lists, the alert's routing facts now (or
    the substance of an event about no alert)."""
    return Event(
        id=event_id(record.seq),
        type=EventType(record.type),
        at=record.at,
        alert_id=record.alert_id,
        followup_id=record.followup_id,
        request_id=record.request_id,
        subscriptions=subscriptions,
        alert=None if alert is None else records.summary_of(alert),
        substance=None if substance is None else substance_of(substance),
    )


def substance_of(announced: EmergingSubstance) -> EventSubstance:
    """The routing facts of an announced substance: its key, the CAS number if the key is one,
    the normalised name as reported."""
    key = announced.substance_key
    cas = None if key.startswith(NAME_KEY_PREFIX) else key
    return EventSubstance(key=key, cas=cas, name=announced.name)


@dataclass(frozen=True)
class FeedOutcome:
    page: EventPage
    head: int
    """The head the page was read up to: wait for it to move before reading again."""


def read_events(
    session: Session,
    caller: Caller,
    query: EventQuery,
    audit: AuditRecorder,
    *,
    record_empty: bool = True,
) -> FeedOutcome:
    """One page of the feed (see the module). An empty page is audited only if
    ``record_empty`` (a long-poll records only the answer it finally gives)."""
    repository = EventRepository(session)
    window = repository.window()
    after = INTEGER_KEYS.decode(query.after) if query.after is not None else window.purged_through
    if after < window.purged_through:
        raise CursorExpired()
    if after > window.head:
        raise InvalidCursor()
    if query.subscription is not None:
        owned = SubscriptionRepository(session).get_owned(caller, query.subscription)
        if owned is None:
            raise SubscriptionNotFound(query.subscription)
    found = repository.page(
        caller,
        after=after,
        through=window.head,
        limit=query.limit + 1,
        types=[kind.value for kind in query.type],
        subscription_id=query.subscription,
    )
    rows = found[: query.limit]
    next_seq = rows[-1][0].seq if len(found) > query.limit else window.head
    matches = repository.matches_of([caller.client_id], [event.seq for event, _, _ in rows])
    items = [
        event_of(event, alert, substance, matches.get((caller.client_id, event.seq), []))
        for event, alert, substance in rows
    ]
    if items or record_empty:
        alert_ids = list(
            dict.fromkeys(str(event.alert_id) for event, _, _ in rows if event.alert_id)
        )
        audit.record(AuditAction.EVENT_READ, resource_ids=alert_ids, result_count=len(items))
    return FeedOutcome(EventPage(items=items, next_cursor=event_id(next_seq)), window.head)
