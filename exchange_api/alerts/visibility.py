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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from sqlalchemy import ColumnElement, bindparam, exists, or_
from sqlmodel import col

from exchange_api.alerts.vocabulary import FIELD_GROUPS, FieldGroup
from exchange_api.auth.caller import Caller
from exchange_api.models.agencies import AgencyKind
from exchange_api.models.alerts import Alert, AlertAudience

__all__ = [
    "DEFAULT_FIELD_POLICY",
    "audience_keys",
    "viewer_params",
    "visible_groups",
    "visible_to",
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
    return _visibility(
        caller.agency_id, _audiences_of(caller), industry=caller.agency_kind is AgencyKind.INDUSTRY
    )


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
    addressed = exists().where(
        col(AlertAudience.alert_id) == col(Alert.id),
        col(AlertAudience.audience).in_(audiences),  # type: ignore[arg-type]
    )
    return or_(own, col(Alert.distribution_scope) == "network", addressed)


def visible_groups(caller: Caller, reporting_agency_id: uuid.UUID) -> tuple[FieldGroup, ...]:
    """The field groups of a visible alert that ``caller`` may see (and so may be decrypted)."""
    if caller.agency_id == reporting_agency_id:
        return FIELD_GROUPS
    return DEFAULT_FIELD_POLICY[caller.agency_kind]


def withheld_groups(visible: Iterable[FieldGroup]) -> list[FieldGroup]:
    """The complement of ``visible``, in the canonical order."""
    shown = set(visible)
    return [group for group in FIELD_GROUPS if group not in shown]
