"""The outbox: how a change produces an event, in the change's own transaction.

Every domain calls :func:`record_event` (or :func:`record_events` for a batch) next to the write
that causes the event, with the same session. It is one INSERT into ``event_intake``: the event
commits with the change or not at all, and nothing else happens in the request. The sequencer
(:mod:`exchange_api.events.sequencer`) is woken by the commit and gives the event its ``seq``.

An event holds ids and routing facts only (type, alert, follow-up, request, and for events only
two agencies may read — requests — those two agencies; an event about no alert,
``substance.emerging``, names its substance key). Who may read it is decided when it is
read or delivered, never here.

This module imports nothing from the domains that call it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from exchange_api.models.events import EventIntakeRecord
from exchange_api.models.types import utc_now

__all__ = ["PRODUCED", "EventType", "record_event", "record_events"]

PRODUCED = "events_produced"
"""``Session.info`` key set when a transaction wrote to the outbox (the sequencer's cue)."""

_INTAKE = SQLModel.metadata.tables[EventIntakeRecord.__tablename__]
_INSERT = insert(_INTAKE)


class EventType(enum.StrEnum):
    """The kinds of events (docs/contract.md, "Events")."""

    ALERT_CREATED = "alert.created"
    ALERT_UPDATED = "alert.updated"
    ALERT_SHREDDED = "alert.shredded"
    FOLLOWUP_CREATED = "followup.created"
    REQUEST_CREATED = "request.created"
    REQUEST_ANSWERED = "request.answered"
    REQUEST_OVERDUE = "request.overdue"
    SUBSTANCE_EMERGING = "substance.emerging"


def record_event(
    session: Session,
    type: EventType,
    alert_id: uuid.UUID | None,
    *,
    followup_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
    only_agencies: tuple[uuid.UUID, uuid.UUID] | None = None,
    substance_key: str | None = None,
) -> None:
    """Produce one event in ``session``'s transaction.

    ``only_agencies``: the two agencies that alone may read the event (a request's sender and
    addressee), each only while it may also see the alert. ``substance_key`` (with no alert):
    the substance an event about no alert is about; every agency but industry reads it."""
    row = _row(type, alert_id, followup_id, request_id, only_agencies, substance_key)
    session.connection().execute(_INSERT, row)
    session.info[PRODUCED] = True


def record_events(session: Session, type: EventType, alert_ids: Sequence[uuid.UUID]) -> None:
    """Produce one event of ``type`` per alert, in one statement (batch creation, retention)."""
    if not alert_ids:
        return
    rows = [_row(type, alert_id, None, None, None, None) for alert_id in alert_ids]
    session.connection().execute(_INSERT, rows)
    session.info[PRODUCED] = True


def _row(
    type: EventType,
    alert_id: uuid.UUID | None,
    followup_id: uuid.UUID | None,
    request_id: uuid.UUID | None,
    only_agencies: tuple[uuid.UUID, uuid.UUID] | None,
    substance_key: str | None,
) -> dict[str, Any]:
    first, second = only_agencies if only_agencies is not None else (None, None)
    return {
        "type": type.value,
        "at": utc_now(),
        "alert_id": alert_id,
        "followup_id": followup_id,
        "request_id": request_id,
        "only_agency_a": first,
        "only_agency_b": second,
        "substance_key": substance_key,
    }
