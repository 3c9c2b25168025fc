"""The ``substance.emerging`` event: announcing, once, an uncatalogued substance that crosses the
early-warning thresholds (docs/contract.md, "Events" and "Statistics").

Called by the alerts domain in the transaction that stores an alert's substances (creation,
batch, or a change of substances), with the keys it stored. Most alerts name only catalogued
substances and cost nothing here; an uncatalogued key already announced costs one primary-key
lookup; only a key not yet announced is counted, by the early warning's own grouped query over
its default window (so the event and ``GET /v1/statistics/emerging`` agree). A key that meets
both thresholds is inserted into ``emerging_substances`` in a savepoint: of two transactions
crossing together, the one whose insert loses to the primary key produces no event.

Counting is serialised per key. Two transactions that each bring the third report of a name
would otherwise each count two (neither sees the other's uncommitted alert) and nobody would
announce it. On PostgreSQL each takes a transaction-scoped advisory lock on the key before
counting (in key order, so two transactions never wait on each other crosswise); the second
counts once the first has committed, and under READ COMMITTED its count sees that alert. SQLite
needs none: its writers hold the database's write lock from their alert's INSERT to their commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from exchange_api.config import Settings
from exchange_api.events.outbox import EventType, record_event
from exchange_api.models.events import EmergingSubstance
from exchange_api.models.types import utc_now
from exchange_api.reference.catalogue import catalogue_keys
from exchange_api.statistics.repository import StatisticsRepository
from exchange_api.statistics.schemas import EMERGING_DAYS

__all__ = ["EmergingThresholds", "announce_emerging"]

_ANNOUNCED = SQLModel.metadata.tables[EmergingSubstance.__tablename__]


@dataclass(frozen=True, slots=True)
class EmergingThresholds:
    """When a substance is emerging: the settings' floors over the default window."""

    min_alerts: int
    min_agencies: int
    days: int = EMERGING_DAYS

    @classmethod
    def of(cls, settings: Settings) -> EmergingThresholds:
        return cls(settings.emerging_min_alerts, settings.emerging_min_agencies)


def announce_emerging(
    session: Session, keys: Iterable[str], thresholds: EmergingThresholds, today: date
) -> None:
    """Produce one ``substance.emerging`` event for each of ``keys`` that is uncatalogued, not
    announced yet, and now meets both thresholds (see the module)."""
    fresh = set(keys) - catalogue_keys()
    if not fresh:
        return
    announced = session.execute(
        select(col(EmergingSubstance.substance_key)).where(
            col(EmergingSubstance.substance_key).in_(sorted(fresh))
        )
    )
    fresh -= set(announced.scalars())
    if not fresh:
        return
    _serialise_counting(session, sorted(fresh))
    rows = StatisticsRepository(session).emerging(
        today - timedelta(days=thresholds.days),
        frozenset(),
        min_alerts=thresholds.min_alerts,
        min_agencies=thresholds.min_agencies,
        keys=sorted(fresh),
    )
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(
                    insert(_ANNOUNCED).values(
                        substance_key=row.key, name=row.name, announced_at=utc_now()
                    )
                )
        except IntegrityError:
            continue  # another transaction announced it first
        record_event(session, EventType.SUBSTANCE_EMERGING, None, substance_key=row.key)


def _serialise_counting(session: Session, keys: list[str]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
