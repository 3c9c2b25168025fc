"""The rules of follow-ups: who may add one, what it may say, who reads what of it.

- Any agency that sees the alert may add a follow-up (404 otherwise, 410 once the alert is
  shredded). Its ``summary`` and ``reference`` are sealed under the alert's data key, bound to
  the follow-up's id and field, so retention shreds them with the alert.
- Rules beyond the schema are checked here and answered like schema failures (422 with
  ``loc``, nothing written, no value repeated): ``occurred_on`` not after today by the app's
  clock; ``corrects`` naming a follow-up of the same alert written by the caller's agency;
  distribution agencies that exist.
- Reading follow-ups is a consultation: it needs a purpose, and is recorded (``followup.read``)
  with the ids delivered and the texts decrypted. Texts a caller may not read are never opened.

Services flush and never commit; each records its audit event through the request's recorder.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic_core import from_json, to_json
from sqlalchemy import Row
from sqlmodel import Session
from uuid_utils.compat import uuid7

from exchange_api.alerts import records
from exchange_api.alerts.errors import AlertNotFound, BodyInvalid
from exchange_api.alerts.repository import AlertRepository
from exchange_api.alerts.schemas import latest_date_anywhere
from exchange_api.alerts.sealing import AttachedCipher, attached_cipher, require_content
from exchange_api.alerts.visibility import followup_texts
from exchange_api.alerts.vocabulary import FOLLOWUP_TEXTS, FollowUpText
from exchange_api.audit.chain import AuditAction
from exchange_api.audit.recorder import AuditRecorder
from exchange_api.auth.caller import Caller
from exchange_api.crypto import Keyring
from exchange_api.events.outbox import EventType, record_event
from exchange_api.followups.errors import FollowUpNotFound
from exchange_api.followups.repository import FollowUpRepository
from exchange_api.followups.schemas import (
    FollowUpCreate,
    FollowUpDistribution,
    FollowUpReceipt,
)
from exchange_api.kit.clock import Clock
from exchange_api.kit.pagination import UUID_KEYS, PlainPage, page_of
from exchange_api.models.types import utc_now

__all__ = ["create_followup", "list_followups", "read_followup"]

SEALED_KIND = "followup"
"""The record kind in the associated data of a follow-up's sealed texts."""

_DISTRIBUTION = records.in_field_order(FollowUpDistribution)


def _sealed_column(text: FollowUpText) -> str:
    return f"sealed_{text}"


# --- create ---------------------------------------------------------------------------------


def _issues(
    session: Session, caller: Caller, alert_id: uuid.UUID, body: FollowUpCreate, clock: Clock
) -> list[dict[str, object]]:
    issues: list[dict[str, object]] = []
    if body.occurred_on > latest_date_anywhere(clock.now()):
        issues.append({"loc": ["body", "occurred_on"], "msg": "must not be in the future"})
    if body.corrects is not None:
        follower = FollowUpRepository(session).follower_of(caller, alert_id, body.corrects)
        if follower is None:
            issues.append({"loc": ["body", "corrects"], "msg": "no such follow-up of this alert"})
        elif follower != caller.agency_id:
            issues.append(
                {
                    "loc": ["body", "corrects"],
                    "msg": "only the agency that wrote a follow-up may correct it",
                }
            )
    listed = body.distribution.agencies
    known = AlertRepository(session).existing_agencies(listed) if listed else set()
    issues.extend(
        {"loc": ["body", "distribution", "agencies", index], "msg": "no such agency"}
        for index, agency in enumerate(listed)
        if agency not in known
    )
    return issues


def create_followup(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    caller: Caller,
    alert_id: uuid.UUID,
    body: FollowUpCreate,
    audit: AuditRecorder,
) -> FollowUpReceipt:
    """Add a follow-up to a visible alert, for the caller's agency (``followup.create``)."""
    alert = AlertRepository(session).get_visible(caller, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    cipher = attached_cipher(keyring, alert)  # 410 once the alert is shredded
    issues = _issues(session, caller, alert_id, body, clock)
    if issues:
        raise BodyInvalid(issues)
    followup_id = uuid7()
    now = utc_now()
    dumped = body.model_dump(mode="json")
    listed = body.distribution.agencies
    sealed = {
        _sealed_column(text): cipher.seal(SEALED_KIND, followup_id, text, to_json(dumped[text]))
        for text in FOLLOWUP_TEXTS
    }
    FollowUpRepository(session).insert(
        {
            "id": followup_id,
            "alert_id": alert_id,
            "agency_id": caller.agency_id,
            "kind": body.kind,
            "occurred_on": body.occurred_on,
            "seized": dumped["seized"],
            "arrests": body.arrests,
            "corrects": body.corrects,
            "handling": dumped["handling"],
            "distribution_scope": body.distribution.scope,
            "distribution": dumped["distribution"],
            "created_at": now,
            **sealed,
        },
        [{"followup_id": followup_id, "agency_id": agency} for agency in listed],
    )
    record_event(session, EventType.FOLLOWUP_CREATED, alert_id, followup_id=followup_id)
    audit.record(AuditAction.FOLLOWUP_CREATE, resource_ids=[followup_id, alert_id])
    return FollowUpReceipt(id=followup_id, alert=alert_id, created_at=now)


# --- read -----------------------------------------------------------------------------------


class _Reader:
    """Opens the texts of one alert's follow-ups that the caller may read; the alert's data key
    is unwrapped once, and only if some text is to be opened.

    A follow-up is laid out as :class:`FollowUpRead` serialises it, in plain values (as a
    search's page is: :func:`records.summary_json`); what was stored was validated when it was
    written, and a sealed text is authenticated by its seal."""

    def __init__(self, keyring: Keyring, caller: Caller, alert: Row[Any]) -> None:
        self._keyring = keyring
        self._caller = caller
        self._alert = alert
        self._cipher: AttachedCipher | None = None
        self.opened: set[FollowUpText] = set()

    def read(self, followup: Row[Any]) -> dict[str, Any]:
        readable = followup_texts(self._caller, self._alert.reporting_agency_id, followup.agency_id)
        texts: dict[str, Any] = {}
        for text in FOLLOWUP_TEXTS:
            if text not in readable:
                continue
            if self._cipher is None:
                self._cipher = attached_cipher(self._keyring, self._alert)
            sealed: bytes = getattr(followup, _sealed_column(text))
            texts[text] = from_json(self._cipher.open(SEALED_KIND, followup.id, text, sealed))
            self.opened.add(text)
        return {
            "id": followup.id,
            "alert": followup.alert_id,
            "agency": followup.agency_id,
            "created_at": followup.created_at,
            "kind": followup.kind,
            "occurred_on": followup.occurred_on,
            "seized": [records.substance_json(line) for line in followup.seized],
            "arrests": followup.arrests,
            "corrects": followup.corrects,
            "handling": records.handling_json(followup.handling),
            "distribution": _DISTRIBUTION(followup.distribution),
            **texts,
            "withheld": [text for text in FOLLOWUP_TEXTS if text not in readable],
        }


def _readable_alert(session: Session, caller: Caller, alert_id: uuid.UUID) -> Row[Any]:
    alert = AlertRepository(session).visible_columns(caller, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    require_content(alert)  # 410 once shredded, whatever the caller may read
    return alert


def _record_read(
    audit: AuditRecorder,
    alert_id: uuid.UUID,
    items: Sequence[dict[str, Any]],
    reader: _Reader,
    purpose: str,
) -> None:
    audit.record(
        AuditAction.FOLLOWUP_READ,
        resource_ids=[alert_id, *(item["id"] for item in items)],
        result_count=len(items),
        fields=[text for text in FOLLOWUP_TEXTS if text in reader.opened],
        purpose=purpose,
    )


def list_followups(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    alert_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    purpose: str,
    cursor: str | None,
    limit: int,
) -> PlainPage:
    """One page of the follow-ups of a visible alert that the caller may see, oldest first, as
    :class:`FollowUpList` serialises it."""
    alert = _readable_alert(session, caller, alert_id)
    after = UUID_KEYS.decode(cursor) if cursor is not None else None
    found = FollowUpRepository(session).visible_page(caller, alert_id, after=after, limit=limit + 1)
    page, next_cursor = page_of(found, limit, UUID_KEYS, lambda row: row.id)
    reader = _Reader(keyring, caller, alert)
    items = [reader.read(followup) for followup in page]
    _record_read(audit, alert_id, items, reader, purpose)
    return PlainPage(items=items, next_cursor=next_cursor)


def read_followup(
    session: Session,
    keyring: Keyring,
    caller: Caller,
    alert_id: uuid.UUID,
    followup_id: uuid.UUID,
    audit: AuditRecorder,
    *,
    purpose: str,
) -> dict[str, Any]:
    """One follow-up of a visible alert, if the caller may see it (404 otherwise), as
    :class:`FollowUpRead` serialises it."""
    alert = _readable_alert(session, caller, alert_id)
    found = FollowUpRepository(session).visible_page(caller, alert_id, only=followup_id, limit=1)
    if not found:
        raise FollowUpNotFound(followup_id)
    reader = _Reader(keyring, caller, alert)
    item = reader.read(found[0])
    _record_read(audit, alert_id, [item], reader, purpose)
    return item
