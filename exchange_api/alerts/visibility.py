"""Who sees which alerts, and which parts of them (docs/contract.md §3; docs/decisions/0010).

Two rules, both applied by the database or before any decryption, never by filtering results:

- **Which alerts**: an agency sees its own alerts; an ``industry`` agency sees nothing else; any
  other agency sees alerts distributed to the ``network``, to its kind, or to it by id.
  :func:`visible_to` is that rule as a SQL condition, added to every query that can return or
  count an alert, so an invisible alert is absent from pages, counts and links, and a read of
  one is a 404 like a read of nothing.
- **Which field groups**: the reporting agency sees all of its own alert; otherwise the caller's
  agency kind decides (:data:`DEFAULT_FIELD_POLICY`). Groups a caller may not see are never
  decrypted, only listed as ``withheld``.

Follow-ups (docs/contract.md, "Follow-ups") add one rule each way: :func:`followup_visible_to`
is the SQL condition for the follow-ups a caller may see (every list, count, stage and history
entry uses it), and :func:`followup_texts` says which of a follow-up's texts it may read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_
from sqlmodel import col

from exchange_api.alerts.vocabulary import FIELD_GROUPS, FOLLOWUP_TEXTS, FieldGroup, FollowUpText
from exchange_api.auth.caller import Caller
from exchange_api.models.agencies import AgencyKind
from exchange_api.models.alerts import Alert, AlertAudience
from exchange_api.models.followups import FollowUp, FollowUpAudience
from exchange_api.models.statistics import AlertRollup

__all__ = [
    "DEFAULT_FIELD_POLICY",
    "audience_keys",
    "followup_addressed_bound",
    "followup_texts",
    "followup_visible_to",
    "followup_visible_to_bound",
    "viewer_params",
    "visible_groups",
    "visible_in_rollup",
    "visible_to",
    "visible_to_agency",
    "visible_to_bound",
    "withheld_groups",
]

_ROUTING_ONLY_PLUS_TRADE: Final[tuple[FieldGroup, ...]] = ("parties", "documents")

DEFAULT_FIELD_POLICY: Final[Mapping[AgencyKind, tuple[FieldGroup, ...]]] = MappingProxyType(
    {
        AgencyKind.LAW_ENFORCEMENT: FIELD_GROUPS,
        AgencyKind.CUSTOMS: FIELD_GROUPS,
        AgencyKind.PROSECUTION: FIELD_GROUPS,
        AgencyKind.REGULATORY: _ROUTING_ONLY_PLUS_TRADE,
        # Industry sees only its own alerts, and those in full (the owner rule below).
        AgencyKind.INDUSTRY: (),
    }
)
"""Field groups an agency kind sees in *other* agencies' alerts it may see at all."""


def audience_keys(
    kinds: Iterable[AgencyKind | str] = (), agencies: Iterable[uuid.UUID] = ()
) -> list[str]:
    """The ``alert_audience`` keys of a distribution list: ``kind:<kind>``, ``agency:<id>``."""
    return [f"kind:{AgencyKind(kind).value}" for kind in kinds] + [
        f"agency:{agency}" for agency in agencies
    ]


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on ``alerts`` that holds exactly for the alerts ``caller`` may see."""
    return visible_to_agency(caller.agency_id, caller.agency_kind)


def visible_to_agency(agency_id: uuid.UUID, kind: AgencyKind) -> ColumnElement[bool]:
    """:func:`visible_to` for any agency, not only the caller's: whether the addressee of a
    request may see the alert it is about is the same rule."""
    audiences = audience_keys(kinds=[kind], agencies=[agency_id])
    return _visibility(agency_id, audiences, industry=kind is AgencyKind.INDUSTRY)


def visible_to_bound(*, industry: bool) -> ColumnElement[bool]:
    """:func:`visible_to` with the caller as bound parameters, for statements built once:
    ``viewer_agency`` (the caller's agency id) and ``viewer_audiences`` (its
    :func:`viewer_params`)."""
    return _visibility(
        bindparam("viewer_agency"),
        bindparam("viewer_audiences", expanding=True),
        industry=industry,
    )


def viewer_params(caller: Caller) -> dict[str, object]:
    """The values of :func:`visible_to_bound`'s parameters for ``caller``."""
    return {"viewer_agency": caller.agency_id, "viewer_audiences": _audiences_of(caller)}


def _audiences_of(caller: Caller) -> list[str]:
    """The ``alert_audience`` keys that address ``caller``: its agency's kind and its agency."""
    return audience_keys(kinds=[caller.agency_kind], agencies=[caller.agency_id])


def _visibility(agency: object, audiences: object, *, industry: bool) -> ColumnElement[bool]:
    own = col(Alert.reporting_agency_id) == agency
    if industry:
        return own
    return or_(own, col(Alert.distribution_scope) == "network", _addressed(audiences))


def _addressed(audiences: object) -> ColumnElement[bool]:
    return exists().where(
        col(AlertAudience.alert_id) == col(Alert.id),
        col(AlertAudience.audience).in_(audiences),  # type: ignore[arg-type]
    )


def visible_in_rollup(caller: Caller) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
    """:func:`visible_to` split for the statistics rollup (``alert_rollup``), whose rows know
    an alert's reporting agency and audience (its distribution without agency ids): the
    condition on rollup rows for the caller's own alerts, the network's and those distributed
    to its kind; and the condition on ``alerts`` for the rest of what it sees, those of other
    agencies distributed to it by id (None for ``industry``, which sees only its own). The two
    count disjoint sets whose union is what :func:`visible_to` holds: an alert's audience rows
    and its distribution are written together from the same distribution."""
    own = col(AlertRollup.reporting_agency_id) == caller.agency_id
    if caller.agency_kind is AgencyKind.INDUSTRY:
        return own, None
    audience = col(AlertRollup.audience)
    kind = audience.contains(f",{caller.agency_kind.value},", autoescape=True)
    rest = and_(
        col(Alert.distribution_scope) == "agencies",
        col(Alert.reporting_agency_id) != caller.agency_id,
        _addressed(audience_keys(agencies=[caller.agency_id])),
    )
    return or_(own, audience == "network", kind), rest


def visible_groups(caller: Caller, reporting_agency_id: uuid.UUID) -> tuple[FieldGroup, ...]:
    """The field groups of a visible alert that ``caller`` may see (and so may be decrypted)."""
    if caller.agency_id == reporting_agency_id:
        return FIELD_GROUPS
    return DEFAULT_FIELD_POLICY[caller.agency_kind]


def withheld_groups(visible: Iterable[FieldGroup]) -> list[FieldGroup]:
    """The complement of ``visible``, in the canonical order."""
    shown = set(visible)
    return [group for group in FIELD_GROUPS if group not in shown]


def followup_visible_to(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition on ``followups`` (joined to their alert through this condition) that
    holds exactly for the follow-ups ``caller`` may see: the alert is visible to it, and the
    follow-up is distributed to whoever sees the alert, or the caller's agency is the alert's
    reporting agency, the follower, or one the follow-up names."""
    audiences = _audiences_of(caller)
    industry = caller.agency_kind is AgencyKind.INDUSTRY
    return _followup_visibility(caller.agency_id, audiences, industry=industry)


def followup_visible_to_bound(*, industry: bool) -> ColumnElement[bool]:
    """:func:`followup_visible_to` with the caller as bound parameters, for statements built
    once (those of :func:`visible_to_bound`)."""
    return _followup_visibility(
        bindparam("viewer_agency"),
        bindparam("viewer_audiences", expanding=True),
        industry=industry,
    )


def followup_addressed_bound() -> ColumnElement[bool]:
    """:func:`followup_visible_to` less its first half, for statements built once that check
    the alert's visibility themselves (with :func:`visible_to_bound`) and correlate this on
    it: the follow-ups of that alert addressed to the viewer, ``viewer_agency`` bound."""
    return _followup_addressed(bindparam("viewer_agency"))


def _followup_visibility(
    agency: object, audiences: object, *, industry: bool
) -> ColumnElement[bool]:
    return and_(_visibility(agency, audiences, industry=industry), _followup_addressed(agency))


def _followup_addressed(agency: object) -> ColumnElement[bool]:
    named = exists().where(
        col(FollowUpAudience.followup_id) == col(FollowUp.id),
        col(FollowUpAudience.agency_id) == agency,
    )
    return and_(
        col(FollowUp.alert_id) == col(Alert.id),
        or_(
            col(FollowUp.distribution_scope) == "alert",
            col(Alert.reporting_agency_id) == agency,
            col(FollowUp.agency_id) == agency,
            named,
        ),
    )


def followup_texts(
    caller: Caller, reporting_agency_id: uuid.UUID, follower_agency_id: uuid.UUID
) -> tuple[FollowUpText, ...]:
    """The texts of a visible follow-up that ``caller`` may read: all of them for the follower
    (its own words, as a reporting agency reads its own alert); otherwise those whose alert
    field group (:data:`FOLLOWUP_TEXTS`) the caller may see in that alert."""
    if caller.agency_id == follower_agency_id:
        return tuple(FOLLOWUP_TEXTS)
    groups = visible_groups(caller, reporting_agency_id)
    return tuple(text for text, group in FOLLOWUP_TEXTS.items() if group in groups)
