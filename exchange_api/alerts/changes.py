"""Changing an alert: JSON Merge Patch (RFC 7386) under optimistic concurrency.

Only the reporting agency may change its alert. The caller names the version it changes in
``If-Match`` (``"v3"``): without one the answer is 428, and if the alert has moved on, 412. The
patch is applied to the whole alert as its reporting agency sees it and the result must be a
valid :class:`~exchange_api.alerts.schemas.AlertCreate`, so a patch can never reach a state a
create could not. Each change that changes something is a new version, with who changed which
fields; routing facts keep their old and new values in the history, sealed groups only their
names.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError
from sqlmodel import Session

from exchange_api.alerts import records
from exchange_api.alerts.errors import (
    AlertNotFound,
    BodyInvalid,
    NotAlertOwner,
    StaleVersion,
    VersionRequired,
    issues_of,
)
from exchange_api.alerts.repository import AlertRepository, NewAlertRows
from exchange_api.alerts.schemas import AlertCreate, AlertReceipt
from exchange_api.alerts.sealing import open_groups, require_content, reseal_groups
from exchange_api.alerts.service import etag_of, unknown_agency_issues
from exchange_api.alerts.tags import TAG_FIELDS_OF_GROUP, tags_of
from exchange_api.alerts.vocabulary import FIELD_GROUPS, FieldGroup
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring
from exchange_api.events.outbox import EventType, record_event
from exchange_api.models.alerts import Alert
from exchange_api.models.types import utc_now
from exchange_api.statistics.emerging import EmergingThresholds, announce_emerging
from exchange_api.statistics.rollup import RolledAlert, audience_of, roll

__all__ = ["ChangeOutcome", "apply_merge_patch", "parse_if_match", "update_alert"]

_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge member by member, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = apply_merge_patch(merged.get(name), value)
    return merged


def parse_if_match(header: str | None) -> set[str]:
    """The strong entity tags an ``If-Match`` header names (RFC 9110 §13.1.1).

    ``*`` and a missing header are refused with 428: a change must say which version it
    changes. Weak tags never match (If-Match compares strongly), nor does anything malformed.
    """
    if header is None or header.strip() in {"", "*"}:
        raise VersionRequired()
    tags = set()
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match is not None and match.group(1) is None:
            tags.add(f'"{match.group(2)}"')
    return tags


@dataclass(frozen=True)
class ChangeOutcome:
    receipt: AlertReceipt
    changed: list[str]
    """Names of the top-level fields that changed (empty: nothing changed, same version)."""

    @property
    def etag(self) -> str:
        return etag_of(self.receipt.version)


def _field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for name in (*records.ROUTING_FIELDS, *FIELD_GROUPS):
        if before.get(name) == after.get(name):
            continue
        if name in records.ROUTING_FIELDS:
            changes.append({"field": name, "old": before.get(name), "new": after.get(name)})
        else:
            changes.append({"field": name})
    return changes


def update_alert(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    alert_id: uuid.UUID,
    patch: Mapping[str, Any],
    audit: AuditRecorder,
    *,
    if_match: str | None,
    review_years: int,
    emerging: EmergingThresholds,
) -> ChangeOutcome:
    """Apply a merge patch to an alert of the caller's agency, as a new version.

    Audited as ``alert.update`` naming the fields that changed (never their values)."""
    wanted = parse_if_match(if_match)
    repository = AlertRepository(session)
    row = repository.get_visible(caller, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    if row.reporting_agency_id != caller.agency_id:
        raise NotAlertOwner()
    if etag_of(row.version) not in wanted:
        raise StaleVersion(etag_of(row.version))
    opened = records.decode_groups(open_groups(keyring, row, FIELD_GROUPS))
    before = records.content_of(row, opened)
    try:
        body = AlertCreate.model_validate(apply_merge_patch(before, patch))
    except ValidationError as exc:
        raise BodyInvalid(issues_of(exc, ["body"])) from None
    issues = unknown_agency_issues(repository, [(["body"], body)])
    if issues:
        raise BodyInvalid(issues[0])
    review_by = body.review_by or records.default_review_by(body.detected_on, review_years)
    after = records.content_of_body(body, review_by)
    changes = _field_changes(before, after)
    if not changes:
        unchanged = records.receipt(
            alert_id, row.version, row.created_at, row.updated_at, row.review_by, body.substances
        )
        audit.record(AuditAction.ALERT_UPDATE, resource_ids=[alert_id], fields=[])
        return ChangeOutcome(receipt=unchanged, changed=[])

    now = utc_now()
    changed_groups: list[FieldGroup] = [
        group for group in FIELD_GROUPS if any(c["field"] == group for c in changes)
    ]
    values = {
        **records.plain_columns(body, review_by),
        **reseal_groups(keyring, row, records.encode_groups(body, changed_groups)),
        "updated_at": now,
    }
    if not repository.claim_version(alert_id, row.version, values):
        # Another change, or retention, committed between our read and our write.
        session.refresh(row)
        require_content(row)
        raise StaleVersion(etag_of(row.version))
    _reroll(repository, row, body, {c["field"] for c in changes})
    _reindex(repository, keyring, row, body, {c["field"] for c in changes}, changed_groups)
    repository.insert(
        NewAlertRows(
            versions=[
                {
                    "alert_id": alert_id,
                    "version": row.version + 1,
                    "event": "updated",
                    "at": now,
                    "agency_id": caller.agency_id,
                    "subject": caller.subject,
                    "client_id": caller.client_id,
                    "changes": changes,
                }
            ]
        )
    )
    record_event(session, EventType.ALERT_UPDATED, alert_id)
    if any(change["field"] == "substances" for change in changes):
        keys = {row["substance_key"] for row in records.substance_rows(alert_id, body)}
        announce_emerging(session, keys, emerging, now.date())
    receipt = records.receipt(
        alert_id, row.version + 1, row.created_at, now, review_by, body.substances
    )
    changed = [c["field"] for c in changes]
    audit.record(AuditAction.ALERT_UPDATE, resource_ids=[alert_id], fields=changed)
    return ChangeOutcome(receipt=receipt, changed=changed)


_ROLLED_FIELDS: Final = frozenset({"substances", "detected_on", "distribution"})


def _reroll(
    repository: AlertRepository, before: Alert, body: AlertCreate, changed: set[str]
) -> None:
    """Move the alert's counts in the statistics rollup if a fact it counts by changed (called
    before :func:`_reindex` replaces its substance rows, which are what it counted)."""
    if not changed & _ROLLED_FIELDS:
        return
    stored = repository.substance_lines(before.id)
    lines = records.substance_rows(before.id, body) if "substances" in changed else stored
    roll(
        repository.session,
        [
            RolledAlert(
                body.detected_on,
                before.reporting_agency_id,
                audience_of(body.distribution.model_dump(mode="json")),
                lines,
            )
        ],
        [
            RolledAlert(
                before.detected_on,
                before.reporting_agency_id,
                audience_of(before.distribution),
                stored,
            )
        ],
    )


def _reindex(
    repository: AlertRepository,
    keyring: Keyring,
    before: Alert,
    body: AlertCreate,
    changed: set[str],
    changed_groups: list[FieldGroup],
) -> None:
    """Rewrite the side tables that the changed fields feed."""
    alert_id = before.id
    if "substances" in changed:
        repository.replace_substances(
            alert_id,
            records.substance_rows(alert_id, body),
        )
    if "route" in changed:
        repository.replace_countries(
            alert_id, records.route_countries(before.route), records.country_rows(alert_id, body)
        )
    if "distribution" in changed:
        repository.replace_audience(alert_id, records.audience_rows(alert_id, body.distribution))
    tagged = [group for group in changed_groups if group in TAG_FIELDS_OF_GROUP]
    if tagged:
        fields = [field for group in tagged for field in TAG_FIELDS_OF_GROUP[group]]
        tags = tags_of(
            keyring,
            parties=body.parties if "parties" in tagged else (),
            documents=body.documents if "documents" in tagged else (),
            persons=body.persons if "persons" in tagged else (),
        )
        repository.replace_tags(alert_id, fields, records.tag_rows(alert_id, tags))
