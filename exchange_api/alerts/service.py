"""The rules of the alerts domain: create (one or a batch), read, search, history.

Changes are in :mod:`~exchange_api.alerts.changes`, links in :mod:`~exchange_api.alerts.links`,
idempotent creation in :mod:`~exchange_api.alerts.idempotency`.

Services flush and never commit: the request's transaction commits at the edge. Each service
records its own audit event through the request's recorder (the ids returned or touched, the
field groups decrypted, the purpose), so that no caller of a service can forget it; the entry is
written in the same transaction (a read's, which has no other write, on its own before the
answer: :func:`~exchange_api.db.commit_each_statement`). An alert the caller may not see raises
:class:`~exchange_api.alerts.errors.AlertNotFound` carrying its id (recorded as a refusal).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_json
from sqlmodel import Session
from uuid_utils.compat import uuid7

from exchange_api.alerts import idempotency, records
from exchange_api.alerts.errors import AlertNotFound, BodyInvalid, issues_of
from exchange_api.alerts.repository import AlertRepository, NewAlertRows
from exchange_api.alerts.schemas import (
    AlertCreate,
    AlertFilterQuery,
    AlertHistory,
    AlertQuery,
    AlertRead,
    AlertReceipt,
    AlertVersion,
    BatchCreate,
    BatchItemError,
    BatchItemResult,
    BatchResult,
    FollowUpEntry,
)
from exchange_api.alerts.sealing import open_groups, seal_new_alert
from exchange_api.alerts.search_query import AlertFilters, NamedSubstance
from exchange_api.alerts.stages import stage_named
from exchange_api.alerts.tags import document_search_tags, party_search_tags, tags_of
from exchange_api.alerts.visibility import visible_groups, withheld_groups
from exchange_api.alerts.vocabulary import FieldGroup
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring, normalise_text
from exchange_api.errors import BadRequest
from exchange_api.events.outbox import EventType, record_event, record_events
from exchange_api.kit.dependencies import PurposeRequired
from exchange_api.kit.pagination import UUID_KEYS, PlainPage, page_of
from exchange_api.models.types import utc_now
from exchange_api.reference.catalogue import substance_key
from exchange_api.statistics.emerging import EmergingThresholds, announce_emerging
from exchange_api.statistics.rollup import roll, rolled_alerts

__all__ = [
    "AlertView",
    "BatchOutcome",
    "CreateOutcome",
    "SearchOutcome",
    "alert_history",
    "create_alert",
    "create_alerts",
    "etag_of",
    "read_alert",
    "search_alerts",
    "unknown_agency_issues",
]


def etag_of(version: int) -> str:
    """The strong entity tag of an alert version: ``"v3"``."""
    return f'"v{version}"'


# --- create ---------------------------------------------------------------------------------


def unknown_agency_issues(
    repository: AlertRepository, bodies: Sequence[tuple[Sequence[int | str], AlertCreate]]
) -> dict[int, list[dict[str, object]]]:
    """Validation issues for distribution lists naming agencies that do not exist, by position
    in ``bodies``; each issue's ``loc`` starts with the body's own prefix."""
    wanted = [agency for _loc, body in bodies for agency in body.distribution.agencies]
    if not wanted:
        return {}
    known = repository.existing_agencies(wanted)
    issues: dict[int, list[dict[str, object]]] = {}
    for position, (loc, body) in enumerate(bodies):
        for index, agency in enumerate(body.distribution.agencies):
            if agency not in known:
                issues.setdefault(position, []).append(
                    {"loc": [*loc, "distribution", "agencies", index], "msg": "no such agency"}
                )
    return issues


def _stage(
    rows: NewAlertRows,
    keyring: Keyring,
    caller: Caller,
    body: AlertCreate,
    *,
    review_by: date,
    now: datetime,
) -> uuid.UUID:
    """Add one new alert (sealed, indexed, version 1) to ``rows``; return its id."""
    alert_id = uuid7()
    plain, plaintexts = records.new_alert_columns(body, review_by)
    rows.alerts.append(
        {
            "id": alert_id,
            "version": 1,
            "reporting_agency_id": caller.agency_id,
            "created_at": now,
            "updated_at": now,
            **plain,
            **seal_new_alert(keyring, alert_id, plaintexts),
        }
    )
    rows.substances.extend(records.substance_rows(alert_id, body))
    rows.countries.extend(records.country_rows(alert_id, body))
    rows.audience.extend(records.audience_rows(alert_id, body.distribution))
    tags = tags_of(keyring, parties=body.parties, documents=body.documents, persons=body.persons)
    rows.tags.extend(records.tag_rows(alert_id, tags))
    rows.versions.append(
        {
            "alert_id": alert_id,
            "version": 1,
            "event": "created",
            "at": now,
            "agency_id": caller.agency_id,
            "subject": caller.subject,
            "client_id": caller.client_id,
            "changes": [],
        }
    )
    return alert_id


def _insert_alert(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    body: AlertCreate,
    *,
    review_years: int,
    emerging: EmergingThresholds,
) -> AlertReceipt:
    repository = AlertRepository(session)
    issues = unknown_agency_issues(repository, [(["body"], body)])
    if issues:
        raise BodyInvalid(issues[0])
    rows = NewAlertRows()
    now = utc_now()
    review_by = body.review_by or records.default_review_by(body.detected_on, review_years)
    alert_id = _stage(rows, keyring, caller, body, review_by=review_by, now=now)
    repository.insert(rows)
    roll(session, rolled_alerts(rows.alerts, rows.substances))
    record_event(session, EventType.ALERT_CREATED, alert_id)
    announce_emerging(session, _keys_of(rows), emerging, now.date())
    return records.receipt(alert_id, 1, now, now, review_by, body.substances)


@dataclass(frozen=True)
class CreateOutcome:
    receipt: AlertReceipt
    replayed: bool
    """An ``Idempotency-Key`` retry answered with the first receipt: nothing was created."""


def create_alert(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    body: AlertCreate,
    audit: AuditRecorder,
    *,
    review_years: int,
    emerging: EmergingThresholds,
    idempotency_key: str | None = None,
    idempotency_kept: timedelta = timedelta(days=7),
) -> CreateOutcome:
    """Store a new alert reported by the caller's agency.

    With an ``idempotency_key`` the client used before (within ``idempotency_kept``) for the
    same body, nothing is created and the first receipt is answered again. The audit log then
    says what happened: ``alert.create.replay`` naming the alert, never a second
    ``alert.create`` — an auditor counts one creation per alert.
    """

    def create() -> AlertReceipt:
        return _insert_alert(
            session, keyring, caller, body, review_years=review_years, emerging=emerging
        )

    if idempotency_key is None:
        outcome = CreateOutcome(create(), replayed=False)
    else:
        once = idempotency.run_once(
            session,
            caller,
            idempotency_key,
            body.model_dump(mode="json"),
            create,
            answer_type=AlertReceipt,
            alert_of=lambda receipt: receipt.id,
            kept=idempotency_kept,
        )
        outcome = CreateOutcome(once.answer, replayed=once.replayed)
    action = AuditAction.ALERT_CREATE_REPLAY if outcome.replayed else AuditAction.ALERT_CREATE
    audit.record(action, resource_ids=[outcome.receipt.id])
    return outcome


@dataclass(frozen=True)
class BatchOutcome:
    result: BatchResult
    created: list[uuid.UUID]
    """The alerts this batch stored (on a replay: those the first request stored)."""
    replayed: bool = False


def _insert_alerts(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    items: Sequence[object],
    *,
    review_years: int,
    emerging: EmergingThresholds,
) -> BatchResult:
    repository = AlertRepository(session)
    problems: dict[int, list[dict[str, object]]] = {}
    valid: list[tuple[int, AlertCreate]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, AlertCreate.model_validate(item)))
        except ValidationError as exc:
            problems[index] = issues_of(exc, ["body", "alerts", index])
    unknown = unknown_agency_issues(
        repository, [(["body", "alerts", index], body) for index, body in valid]
    )
    rows = NewAlertRows()
    now = utc_now()
    created: dict[int, uuid.UUID] = {}
    for position, (index, body) in enumerate(valid):
        if position in unknown:
            problems[index] = unknown[position]
            continue
        review_by = body.review_by or records.default_review_by(body.detected_on, review_years)
        created[index] = _stage(rows, keyring, caller, body, review_by=review_by, now=now)
    repository.insert(rows)
    roll(session, rolled_alerts(rows.alerts, rows.substances))
    record_events(session, EventType.ALERT_CREATED, list(created.values()))
    announce_emerging(session, _keys_of(rows), emerging, now.date())
    results: list[BatchItemResult | BatchItemError] = []
    for index in range(len(items)):
        if index in created:
            results.append(BatchItemResult(index=index, id=created[index]))
        else:
            results.append(
                BatchItemError(index=index, error=BodyInvalid(problems[index]).document())
            )
    return BatchResult(results=results)


def _keys_of(rows: NewAlertRows) -> set[str]:
    """The substance keys of the alerts staged in ``rows``."""
    return {row["substance_key"] for row in rows.substances}


def _stored(result: BatchResult) -> list[uuid.UUID]:
    return [item.id for item in result.results if isinstance(item, BatchItemResult)]


def create_alerts(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    body: BatchCreate,
    audit: AuditRecorder,
    *,
    review_years: int,
    emerging: EmergingThresholds,
    idempotency_key: str | None = None,
    idempotency_kept: timedelta = timedelta(days=7),
) -> BatchOutcome:
    """Validate each item on its own and store the valid ones, all in one bulk write.

    An invalid item gets its problem in the results and does not stop the others. With an
    ``idempotency_key`` used before for the same batch, nothing is stored and the first results
    are answered again, recorded as ``alert.create.replay`` naming the alerts it had stored.
    """

    def insert() -> BatchResult:
        return _insert_alerts(
            session, keyring, caller, body.alerts, review_years=review_years, emerging=emerging
        )

    if idempotency_key is None:
        result, replayed = insert(), False
    else:
        once = idempotency.run_once(
            session,
            caller,
            idempotency_key,
            {"alerts": list(body.alerts)},  # as sent: items are validated one by one
            insert,
            answer_type=BatchResult,
            alert_of=lambda answer: next(iter(_stored(answer)), None),
            kept=idempotency_kept,
        )
        result, replayed = once.answer, once.replayed
    stored = _stored(result)
    action = AuditAction.ALERT_CREATE_REPLAY if replayed else AuditAction.ALERT_CREATE
    audit.record(action, resource_ids=stored, result_count=len(stored))
    return BatchOutcome(result=result, created=stored, replayed=replayed)


# --- read -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    content: dict[str, Any]
    """The alert as :class:`AlertRead` serialises it (:func:`records.read_json`): the groups
    the caller may not see are absent."""
    fields: tuple[FieldGroup, ...]
    """The field groups decrypted for the caller (for the audit record)."""

    @property
    def alert(self) -> AlertRead:
        return AlertRead.model_validate(self.content)

    @property
    def etag(self) -> str:
        return etag_of(self.content["version"])

    def json(self) -> bytes:
        return to_json(self.content)


def read_alert(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    alert_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    purpose: str,
) -> AlertView:
    """The alert as the caller may see it; groups it may not see are never decrypted.

    Written from plain values, as a search's page is (:func:`records.summary_json`): the
    stored facts and the opened groups were validated when they were written."""
    row = AlertRepository(session).read_visible(caller, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    groups = visible_groups(caller, row.reporting_agency_id)
    opened = records.opened_json(open_groups(keyring, row, groups))
    stage = stage_named(row.stage_rank)
    content = records.read_json(
        row, opened, withheld_groups(groups), followups=int(row.followups_seen), stage=stage
    )
    audit.record(AuditAction.ALERT_READ, resource_ids=[alert_id], fields=groups, purpose=purpose)
    return AlertView(content=content, fields=groups)


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchOutcome(PlainPage):
    """One page of a search: its items as :class:`AlertSummary` serialises them
    (:func:`~exchange_api.alerts.records.summary_json`), and the cursor of the next page."""

    ids: list[uuid.UUID]


def _filters(keyring: Keyring, query: AlertQuery, purpose: str | None) -> AlertFilters:
    tags: list[tuple[tuple[str, str], ...]] = []
    for name, value, tags_for in (
        ("party", query.party, party_search_tags),
        ("document", query.document, document_search_tags),
    ):
        if value is None:
            continue
        if purpose is None:
            raise PurposeRequired(f"A {name} search")
        alternatives = tuple(tags_for(keyring, value))
        if not alternatives:
            raise BadRequest(
                f"The {name} filter must contain letters or digits.",
                slug="invalid-parameter",
                title="Invalid parameter",
            )
        tags.append(alternatives)
    return dataclasses.replace(
        routing_filters(query), tags=tuple(tags), stages=tuple(dict.fromkeys(query.stage))
    )


def routing_filters(query: AlertFilterQuery) -> AlertFilters:
    """The filters on routing facts of ``query`` (those statistics share with search)."""
    legs = (
        ("origin", query.origin),
        ("transit", query.transit),
        ("destination", query.destination),
        ("any", query.country),
    )
    named = query.substance_name
    return AlertFilters(
        substances=tuple(dict.fromkeys(substance_key(cas, None) for cas in query.substance)),
        substance_name=None
        if named is None
        else NamedSubstance(key=substance_key(None, named), name=normalise_text(named)),
        incident_types=tuple(dict.fromkeys(query.incident_type)),
        statuses=tuple(dict.fromkeys(query.status)),
        countries=tuple((leg, country) for leg, country in legs if country is not None),
        reporting_agency=query.reporting_agency,
        detected_after=query.detected_after,
        detected_before=query.detected_before,
    )


def search_alerts(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    query: AlertQuery,
    audit: AuditRecorder,
    *,
    purpose: str | None,
) -> SearchOutcome:
    """One page of the visible alerts matching ``query``, newest first.

    Party and document filters match through blind indexes and need a purpose. Only routing
    facts are listed: nothing is decrypted.
    """
    filters = _filters(keyring, query, purpose)
    before = UUID_KEYS.decode(query.cursor) if query.cursor is not None else None
    found = AlertRepository(session).search(caller, filters, before=before, limit=query.limit + 1)
    page, next_cursor = page_of(found, query.limit, UUID_KEYS, lambda row: row.id)
    ids = [row.id for row in page]
    audit.record(AuditAction.ALERT_SEARCH, resource_ids=ids, result_count=len(ids), purpose=purpose)
    return SearchOutcome(
        items=[records.summary_json(row) for row in page], next_cursor=next_cursor, ids=ids
    )


# --- history --------------------------------------------------------------------------------


def alert_history(
    session: Session,
    caller: Caller,
    alert_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    purpose: str | None,
) -> AlertHistory:
    """Every version of a visible alert (when, which agency, which fields changed) and every
    follow-up the caller may see (when, which agency, which kind), oldest first.

    The acting officer is shown only to callers who may see the alert's contact group, and
    never once the alert is shredded (the contact group is gone with the rest). A change made
    by a client acting for no officer (its token's subject is the client itself) names no
    officer: the client id is not a person. Follow-ups show no text, so a shredded alert's
    history still lists them.
    """
    repository = AlertRepository(session)
    row = repository.get_visible(caller, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    show_officer = row.shredded_at is None and "contact" in visible_groups(
        caller, row.reporting_agency_id
    )
    entries: list[AlertVersion | FollowUpEntry] = [
        AlertVersion.model_validate(
            {
                "version": record.version,
                "event": record.event,
                "at": record.at,
                "agency": record.agency_id,
                "officer": record.subject
                if show_officer and record.subject != record.client_id
                else None,
                "changes": record.changes,
            }
        )
        for record in repository.versions(alert_id)
    ]
    entries.extend(
        FollowUpEntry(
            event="followup",
            at=followup.created_at,
            agency=followup.agency_id,
            followup=followup.id,
            kind=followup.kind,
        )
        for followup in repository.visible_followups(caller, alert_id)
    )
    entries.sort(key=lambda entry: entry.at)  # stable: versions before follow-ups at a tie
    history = AlertHistory(
        items=entries,
        next_cursor=None,  # set, so that the answer (which omits unset values) still has it
    )
    audit.record(
        AuditAction.ALERT_HISTORY,
        resource_ids=[alert_id],
        result_count=len(history.items),
        purpose=purpose,
    )
    return history
