"""Links: which visible alerts share a party, document or person with this one (backtracking).

Two alerts are linked when they share a blind-index tag: the same company name or identifier,
the same document or container number, the same person (name and date of birth). Only alerts
the caller may see are linked or counted. A value held by more alerts than the threshold (a big
freight forwarder, a carrier's container prefix) would link everything to everything; it is
reported once under ``common`` instead.

The shared value is shown as this alert holds it, and only when the caller may see the field
group it comes from; otherwise the link says *what kind* of value is shared, not the value.
Only the groups needed for that are decrypted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from sqlmodel import Session

from exchange_api.alerts import records
from exchange_api.alerts.errors import AlertNotFound
from exchange_api.alerts.repository import AlertRepository
from exchange_api.alerts.schemas import AlertLinks, CommonValue, LinkedAlert, SharedValue
from exchange_api.alerts.sealing import open_groups, require_content
from exchange_api.alerts.tags import TAG_FIELDS_OF_GROUP, tags_of
from exchange_api.alerts.visibility import visible_groups
from exchange_api.alerts.vocabulary import FieldGroup
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring

__all__ = ["LinksView", "alert_links"]

_GROUP_OF_FIELD: Final[dict[str, FieldGroup]] = {
    field: group for group, fields in TAG_FIELDS_OF_GROUP.items() for field in fields
}


@dataclass(frozen=True)
class LinksView:
    links: AlertLinks
    fields: tuple[FieldGroup, ...]
    """The field groups decrypted to show shared values (for the audit record)."""

    @property
    def linked_ids(self) -> list[uuid.UUID]:
        return [item.id for item in self.links.items]


def alert_links(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    alert_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    threshold: int,
    purpose: str,
) -> LinksView:
    """The visible alerts sharing a tag with ``alert_id``, and the values too common to link."""
    repository = AlertRepository(session)
    row = repository.get_visible(caller, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    require_content(row)  # a shredded alert's tags are gone with its content: 410, not "none"

    linked: dict[uuid.UUID, list[tuple[str, str]]] = {}
    common: list[tuple[str, str, int]] = []
    for field, tag in repository.tags_of(alert_id):
        # This alert holds the value too: more than `threshold` holders is "common".
        others = repository.visible_sharing(caller, field, tag, besides=alert_id, limit=threshold)
        if len(others) + 1 > threshold:
            common.append((field, tag, threshold))
            continue
        for other in others:
            linked.setdefault(other, []).append((field, tag))

    involved = {field for pairs in linked.values() for field, _tag in pairs}
    involved.update(field for field, _tag, _n in common)
    allowed = set(visible_groups(caller, row.reporting_agency_id))
    to_open = tuple(
        group for group in TAG_FIELDS_OF_GROUP if group in allowed and _uses(group, involved)
    )
    opened = records.decode_groups(open_groups(keyring, row, to_open))
    shown = {
        (tag.field, tag.tag): tag.shown
        for tag in tags_of(
            keyring,
            parties=opened.get("parties", ()),
            documents=opened.get("documents", ()),
            persons=opened.get("persons", ()),
        )
    }

    def value(field: str, tag: str) -> str | None:
        return shown.get((field, tag)) if _GROUP_OF_FIELD[field] in to_open else None

    links = AlertLinks(
        items=[
            LinkedAlert(
                id=other,
                shared=[
                    SharedValue.model_validate({"field": f, "value": value(f, t)}) for f, t in pairs
                ],
            )
            for other, pairs in sorted(linked.items(), key=lambda item: item[0], reverse=True)
        ],
        common=[
            CommonValue.model_validate({"field": f, "value": value(f, t), "more_than": n})
            for f, t, n in common
        ],
    )
    view = LinksView(links=links, fields=to_open)
    audit.record(
        AuditAction.ALERT_LINKS,
        resource_ids=[alert_id, *view.linked_ids],
        result_count=len(view.linked_ids),
        fields=to_open,
        purpose=purpose,
    )
    return view


def _uses(group: FieldGroup, fields: set[str]) -> bool:
    return any(field in fields for field in TAG_FIELDS_OF_GROUP[group])
