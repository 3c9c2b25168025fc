"""Demo requests for ``exchange-api init --demo``: one open, one answered and one overdue, between
demo agencies about the demo police's alerts.

They go through the service like any request (visibility checked, messages sealed, audited). The
overdue one was sent "a month ago": the service is given a clock set in the past, so that its
due date passes the same rule as any other. Seeded only together with the demo alerts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlmodel import Session, col, select

from exchange_api.assistance import service
from exchange_api.assistance.schemas import RequestCreate, RequestReply
from exchange_api.audit.appender import AuditLog
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring
from exchange_api.kit.clock import Clock, FrozenClock
from exchange_api.models.agencies import Agency, AgencyKind
from exchange_api.models.alerts import Alert

__all__ = ["seed_demo_requests"]


def _caller(agency: Agency) -> Caller:
    return Caller(
        subject="demo-seed",
        client_id="demo-" + agency.kind.value.replace("_", "-"),
        agency_id=agency.id,
        agency_kind=agency.kind,
        scopes=frozenset(),
        token_id="",  # no token: the seed acts for the agency from the command line
    )


def seed_demo_requests(
    session: Session,
    keyring: Keyring,
    agencies: Mapping[AgencyKind, Agency],
    *,
    audit_log: AuditLog,
    clock: Clock,
) -> list[uuid.UUID]:
    """Send the three demo requests and answer one; returns their ids."""
    police = agencies[AgencyKind.LAW_ENFORCEMENT]
    customs = agencies[AgencyKind.CUSTOMS]
    prosecution = agencies[AgencyKind.PROSECUTION]
    first, second, third = session.exec(
        select(col(Alert.id))
        .where(col(Alert.reporting_agency_id) == police.id)
        .order_by(col(Alert.id))
        .limit(3)
    ).all()

    def as_agency(agency: Agency) -> tuple[Caller, AuditRecorder]:
        caller = _caller(agency)
        identity = AuditIdentity(
            actor=caller.subject, client_id=caller.client_id, agency=str(agency.id)
        )
        return caller, AuditRecorder.acting_as(audit_log, session, identity)

    today = clock.today()
    caller, audit = as_agency(customs)
    open_one = service.create_request(
        session,
        keyring,
        clock,
        caller,
        first,
        RequestCreate(
            to=police.id,
            kind="backtracking",
            message="Demo: who ordered this consignment from the exporter, and who paid for it?",
            due_by=today + timedelta(days=14),
            urgency="urgent",
        ),
        audit,
    )
    audit.flush()

    caller, audit = as_agency(prosecution)
    answered = service.create_request(
        session,
        keyring,
        clock,
        caller,
        second,
        RequestCreate(
            to=police.id,
            kind="judicial_use",
            message="Demo: may we use the H1 information of this alert in the court file?",
            due_by=today + timedelta(days=7),
            urgency="routine",
        ),
        audit,
    )
    audit.flush()

    month_ago = FrozenClock(clock.now() - timedelta(days=30))
    caller, audit = as_agency(police)
    overdue = service.create_request(
        session,
        keyring,
        month_ago,
        caller,
        third,
        RequestCreate(
            to=customs.id,
            kind="information",
            message="Demo: please send the customs declaration and the scan images.",
            due_by=month_ago.today() + timedelta(days=10),
            urgency="urgent",
        ),
        audit,
    )
    service.reply_to_request(
        session,
        keyring,
        clock,
        caller,
        answered.id,
        RequestReply(outcome="answered", message="Demo: yes, within case FR-2026-0042 only."),
        audit,
    )
    audit.flush()
    return [open_one.id, answered.id, overdue.id]
