"""Matching events against watch lists in SQL, however many lists there are.

A watch list's filter is stored as criteria rows ``(kind, value, subscription_id)``, one per
accepted value (a list of three substances is three ``substance`` rows); party and document
filters are stored as ``field:tag`` blind-index values, never the text. An alert is described by
its *facts*, the same ``(kind, value)`` pairs read from the alert's own search tables
(``alert_substances``, ``alert_countries``, ``alert_tags``) and its incident type.

A list matches an alert when, for each kind its filter names, at least one of its values is among
the alert's facts (OR within a kind, AND across kinds, as in search)::

    facts(alert) JOIN subscription_criteria ON (kind, value)       -- the primary key's range
    GROUP BY subscription HAVING count(DISTINCT kind) = subscriptions.criteria_kinds

plus every list with an empty filter. An event about no alert (``substance.emerging``) has one
fact, its substance key, as ``substance`` and ``substance_name``: lists watching that substance
(and nothing else) match it. The join reads only the criteria rows equal to one of the
alert's few facts (an index range each), so its cost follows the number of lists that share a
value with the alert, not the number of lists: 10,000 lists on other substances cost nothing.
(docs/decisions/0016.)

The sequencer runs :func:`insert_matches` once per pass, for the events it has just sequenced.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal,
    select,
    true,
    union,
    union_all,
)
from sqlmodel import SQLModel

from exchange_api.crypto import DOCUMENT_NUMBER, PARTY_IDENTIFIER, PARTY_NAME
from exchange_api.models.alerts import Alert, AlertCountry, AlertSubstance, AlertTag
from exchange_api.models.events import (
    EventMatch,
    EventRecord,
    Subscription,
    SubscriptionCriterion,
)

__all__ = ["CRITERION_KINDS", "insert_matches", "tag_value"]

CRITERION_KINDS = (
    "substance",
    "substance_name",
    "origin",
    "transit",
    "destination",
    "country",
    "incident_type",
    "party",
    "document",
)

_EVENTS = SQLModel.metadata.tables[EventRecord.__tablename__]
_MATCHES = SQLModel.metadata.tables[EventMatch.__tablename__]
_SUBSCRIPTIONS = SQLModel.metadata.tables[Subscription.__tablename__]
_CRITERIA = SQLModel.metadata.tables[SubscriptionCriterion.__tablename__]
_ALERTS = SQLModel.metadata.tables[Alert.__tablename__]
_SUBSTANCES = SQLModel.metadata.tables[AlertSubstance.__tablename__]
_COUNTRIES = SQLModel.metadata.tables[AlertCountry.__tablename__]
_TAGS = SQLModel.metadata.tables[AlertTag.__tablename__]
_TAG_KINDS = {"party": (PARTY_NAME, PARTY_IDENTIFIER), "document": (DOCUMENT_NUMBER,)}


def tag_value(field: str, tag: str) -> str:
    """A blind-index criterion's stored value (the same on both sides of the join)."""
    return f"{field}:{tag}"


# The events of one pass, as bound parameters: the statement below is built once, at import.
_FIRST = bindparam("first", type_=BigInteger)
_LAST = bindparam("last", type_=BigInteger)


def _facts() -> Any:
    """``(seq, kind, value)`` of the alerts of the events ``first``..``last``."""
    events = _EVENTS.c
    in_range = events.seq.between(_FIRST, _LAST)

    def on(table: Any, kind: str, value: Any, *where: Any) -> Select[Any]:
        return (
            select(events.seq, literal(kind).label("kind"), value.label("value"))
            .join_from(_EVENTS, table, table.c.alert_id == events.alert_id)
            .where(in_range, *where)
        )

    parts: list[Select[Any]] = [
        on(_SUBSTANCES, "substance", _SUBSTANCES.c.substance_key),
        on(_SUBSTANCES, "substance_name", _SUBSTANCES.c.substance_key),
        on(_COUNTRIES, "country", _COUNTRIES.c.country),
        on(_COUNTRIES, "origin", _COUNTRIES.c.country, _COUNTRIES.c.is_origin.is_(True)),
        on(_COUNTRIES, "transit", _COUNTRIES.c.country, _COUNTRIES.c.is_transit.is_(True)),
        on(
            _COUNTRIES,
            "destination",
            _COUNTRIES.c.country,
            _COUNTRIES.c.is_destination.is_(True),
        ),
        select(events.seq, literal("incident_type").label("kind"), _ALERTS.c.incident_type)
        .join_from(_EVENTS, _ALERTS, _ALERTS.c.id == events.alert_id)
        .where(in_range),
        select(events.seq, literal("substance").label("kind"), events.substance_key).where(
            in_range, events.substance_key.is_not(None)
        ),
        select(events.seq, literal("substance_name").label("kind"), events.substance_key).where(
            in_range, events.substance_key.is_not(None)
        ),
    ]
    for kind, fields in _TAG_KINDS.items():
        parts.append(on(_TAGS, kind, _TAGS.c.field + ":" + _TAGS.c.tag, _TAGS.c.field.in_(fields)))
    return union_all(*parts).subquery("facts")


def _insert_matches() -> Any:
    facts = _facts()
    criteria = _CRITERIA.c
    subscriptions = _SUBSCRIPTIONS.c
    by_criteria = (
        select(facts.c.seq, criteria.subscription_id)
        .join_from(
            facts,
            _CRITERIA,
            and_(criteria.kind == facts.c.kind, criteria.value == facts.c.value),
        )
        .join(_SUBSCRIPTIONS, subscriptions.id == criteria.subscription_id)
        .group_by(facts.c.seq, criteria.subscription_id, subscriptions.criteria_kinds)
        .having(func.count(criteria.kind.distinct()) == subscriptions.criteria_kinds)
    )
    unfiltered = (
        select(_EVENTS.c.seq, subscriptions.id)
        .join_from(_EVENTS, _SUBSCRIPTIONS, true())
        .where(
            _EVENTS.c.seq.between(_FIRST, _LAST),
            _EVENTS.c.alert_id.is_not(None),
            subscriptions.criteria_kinds == 0,
        )
    )
    return insert(_MATCHES).from_select(["seq", "subscription_id"], union(by_criteria, unfiltered))


_INSERT_MATCHES = _insert_matches()


def insert_matches(connection: Any, first: int, last: int) -> None:
    """Store which watch lists the alerts of events ``first``..``last`` match."""
    connection.execute(_INSERT_MATCHES, {"first": first, "last": last})
