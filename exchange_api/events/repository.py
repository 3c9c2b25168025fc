"""Every query of the events domain that an endpoint reaches: the feed, watch lists, their
deliveries. Each is scoped by the caller: the feed by the alerts visibility condition
(:func:`exchange_api.alerts.visibility.visible_to`, the same as search) — or, for an event about
no alert (``substance.emerging``), by the caller not being an industry agency — watch lists by
the caller's client."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    false,
    literal,
    or_,
    true,
    union_all,
    update,
)
from sqlmodel import Session, col, select

from exchange_api.alerts.visibility import followup_visible_to, visible_to
from exchange_api.auth.caller import Caller
from exchange_api.models.agencies import Agency, AgencyKind, Client
from exchange_api.models.alerts import Alert
from exchange_api.models.events import (
    EmergingSubstance,
    EventHead,
    EventMatch,
    EventRecord,
    Subscription,
    SubscriptionCriterion,
    WebhookDelivery,
)
from exchange_api.models.followups import FollowUp

__all__ = ["EventRepository", "FeedRow", "FeedWindow", "SubscriptionRepository"]

FeedRow = tuple[EventRecord, Alert | None, EmergingSubstance | None]
"""An event, its alert (none for an event about a substance), its announced substance (if any)."""


@dataclass(frozen=True, slots=True)
class FeedWindow:
    head: int
    """The newest seq, all of whose events are committed."""
    purged_through: int
    """The newest seq forgotten: older cursors are expired."""


def readable_by(caller: Caller) -> ColumnElement[bool]:
    """The events ``caller`` may read now: about an alert it may see now (the search
    condition); for two-agency events, only by those two; for a follow-up's event, only by
    those who may see that follow-up now (the follow-ups' own condition, so a follow-up
    distributed to named agencies reaches no one else). An event about no alert is network-wide,
    like ``GET /v1/statistics/emerging``: every agency but industry reads it.

    The condition reads the event's alert through an outer join (``Alert``'s columns are null
    for an event about no alert)."""
    agency = caller.agency_id
    followup_visible = exists().where(
        col(FollowUp.id) == col(EventRecord.followup_id), followup_visible_to(caller)
    )
    about_alert = and_(
        col(Alert.id).is_not(None),
        visible_to(caller),
        or_(
            col(EventRecord.only_agency_a).is_(None),
            col(EventRecord.only_agency_a) == agency,
            col(EventRecord.only_agency_b) == agency,
        ),
        or_(col(EventRecord.followup_id).is_(None), followup_visible),
    )
    network = false() if caller.agency_kind is AgencyKind.INDUSTRY else true()
    return or_(about_alert, and_(col(EventRecord.alert_id).is_(None), network))


def _feed() -> Any:
    """Events with their alert and announced substance, either of which may be missing."""
    return (
        select(EventRecord, Alert, EmergingSubstance)
        .outerjoin(Alert, col(Alert.id) == col(EventRecord.alert_id))
        .outerjoin(
            EmergingSubstance,
            col(EmergingSubstance.substance_key) == col(EventRecord.substance_key),
        )
    )


class EventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def window(self) -> FeedWindow:
        head = self._session.exec(select(EventHead).where(EventHead.id == 1)).one()
        return FeedWindow(head=head.seq, purged_through=head.purged_through)

    def page(
        self,
        caller: Caller,
        *,
        after: int,
        through: int,
        limit: int,
        types: Sequence[str],
        subscription_id: uuid.UUID | None,
    ) -> list[FeedRow]:
        """Up to ``limit`` events after ``after`` and up to ``through`` that ``caller`` may
        read now, oldest first, each with its alert or substance."""
        statement = _feed().where(
            col(EventRecord.seq) > after,
            col(EventRecord.seq) <= through,
            readable_by(caller),
        )
        if types:
            statement = statement.where(col(EventRecord.type).in_(types))
        if subscription_id is not None:
            statement = statement.where(
                exists().where(
                    col(EventMatch.subscription_id) == subscription_id,
                    col(EventMatch.seq) == col(EventRecord.seq),
                )
            )
        statement = statement.order_by(col(EventRecord.seq)).limit(limit)
        return [
            (event, alert, substance) for event, alert, substance in self._session.exec(statement)
        ]

    def matches_of(
        self, client_ids: Collection[str], seqs: Collection[int]
    ) -> dict[tuple[str, int], list[uuid.UUID]]:
        """The watch lists of each of ``client_ids`` that each of ``seqs`` matched, by
        ``(client, seq)``."""
        if not seqs or not client_ids:
            return {}
        rows = self._session.exec(
            select(Subscription.client_id, EventMatch.seq, EventMatch.subscription_id)
            .join(Subscription, col(Subscription.id) == col(EventMatch.subscription_id))
            .where(col(EventMatch.seq).in_(seqs), col(Subscription.client_id).in_(client_ids))
            .order_by(col(EventMatch.seq), col(EventMatch.subscription_id))
        )
        found: dict[tuple[str, int], list[uuid.UUID]] = {}
        for client_id, seq, subscription_id in rows:
            found.setdefault((client_id, seq), []).append(subscription_id)
        return found

    def events(self, seqs: Collection[int]) -> dict[int, FeedRow]:
        """Events by seq, each with its alert or substance, whoever may read them (for
        delivery, which checks)."""
        if not seqs:
            return {}
        rows = self._session.exec(_feed().where(col(EventRecord.seq).in_(seqs)))
        return {event.seq: (event, alert, substance) for event, alert, substance in rows}

    def readable_among(
        self, asked: Sequence[tuple[Caller, Collection[int]]]
    ) -> set[tuple[uuid.UUID, int]]:
        """Of the events asked about for each viewer, the ``(viewer's agency, seq)`` pairs the
        agency may read now: one statement, each viewer's part under the feed's own condition
        (:func:`readable_by`)."""
        parts = [
            select(literal(index), col(EventRecord.seq))
            .outerjoin(Alert, col(Alert.id) == col(EventRecord.alert_id))
            .where(col(EventRecord.seq).in_(seqs), readable_by(viewer))
            for index, (viewer, seqs) in enumerate(asked)
            if seqs
        ]
        if not parts:
            return set()
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        rows = self._session.connection().execute(statement)
        return {(asked[index][0].agency_id, seq) for index, seq in rows}


class SubscriptionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, subscription: Subscription, criteria: Sequence[tuple[str, str]]) -> None:
        self._session.add(subscription)
        self._session.flush()
        self._session.add_all(
            SubscriptionCriterion(kind=kind, value=value, subscription_id=subscription.id)
            for kind, value in dict.fromkeys(criteria)
        )
        self._session.flush()

    def webhooks(
        self, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Subscription, AgencyKind, bool]]:
        """The watch lists among ``ids`` that have a webhook, each with its agency's kind and
        whether its client is disabled now."""
        if not ids:
            return {}
        rows = self._session.exec(
            select(Subscription, Agency.kind, Client.disabled_at)
            .join(Agency, col(Agency.id) == col(Subscription.agency_id))
            .join(Client, col(Client.client_id) == col(Subscription.client_id))
            .where(col(Subscription.id).in_(ids), col(Subscription.webhook_url).is_not(None))
        )
        return {
            subscription.id: (subscription, AgencyKind(kind), disabled_at is not None)
            for subscription, kind, disabled_at in rows
        }

    def get_owned(self, caller: Caller, subscription_id: uuid.UUID) -> Subscription | None:
        return self._session.exec(
            select(Subscription).where(
                col(Subscription.id) == subscription_id,
                col(Subscription.client_id) == caller.client_id,
            )
        ).first()

    def list_owned(
        self, caller: Caller, *, after: uuid.UUID | None, limit: int
    ) -> list[Subscription]:
        statement = select(Subscription).where(col(Subscription.client_id) == caller.client_id)
        if after is not None:
            statement = statement.where(col(Subscription.id) > after)
        return list(self._session.exec(statement.order_by(col(Subscription.id)).limit(limit)))

    def delete(self, subscription_id: uuid.UUID) -> None:
        for table, column in (
            (WebhookDelivery, WebhookDelivery.subscription_id),
            (EventMatch, EventMatch.subscription_id),
            (SubscriptionCriterion, SubscriptionCriterion.subscription_id),
            (Subscription, Subscription.id),
        ):
            self._session.execute(delete(table).where(col(column) == subscription_id))

    def set_state(self, subscription_id: uuid.UUID, values: dict[str, Any]) -> None:
        self._session.execute(
            update(Subscription).where(col(Subscription.id) == subscription_id).values(**values)
        )

    def deliveries(
        self, subscription_id: uuid.UUID, *, before: int | None, limit: int
    ) -> list[WebhookDelivery]:
        statement = select(WebhookDelivery).where(
            col(WebhookDelivery.subscription_id) == subscription_id
        )
        if before is not None:
            statement = statement.where(col(WebhookDelivery.seq) < before)
        return list(
            self._session.exec(statement.order_by(col(WebhookDelivery.seq).desc()).limit(limit))
        )

    def retry_pending_now(self, subscription_id: uuid.UUID, now: Any) -> None:
        """Make the pending and expired deliveries of a resumed watch list due now."""
        self._session.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.subscription_id) == subscription_id,
                col(WebhookDelivery.state).in_(("pending", "expired")),
            )
            .values(state="pending", next_attempt_at=now, created_at=now)
        )
