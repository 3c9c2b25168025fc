"""The closed vocabularies of the exchange format (docs/contract.md §3, "The alert body").

Each is a ``Literal`` so that it appears as an ``enum`` in the JSON Schemas other agencies build
against, and a tuple of its values for code that needs to iterate.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, get_args

__all__ = [
    "FIELD_GROUPS",
    "FOLLOWUP_TEXTS",
    "HANDLING_CODE_MEANINGS",
    "KILOGRAMS_PER_UNIT",
    "LITRES_PER_UNIT",
    "PENAL_CHAIN",
    "AlertStatus",
    "DistributionScope",
    "DocumentKind",
    "FieldGroup",
    "FollowUpDistributionScope",
    "FollowUpKind",
    "FollowUpText",
    "HandlingCode",
    "IncidentType",
    "InformationReliability",
    "PartyRole",
    "PersonCategory",
    "QuantityUnit",
    "SourceReliability",
    "Stage",
    "Tlp",
    "TransportMode",
]

IncidentType = Literal[
    "suspicious_order",
    "suspicious_inquiry",
    "suspicious_shipment",
    "stopped_shipment",
    "suspended_shipment",
    "seizure",
    "attempted_diversion",
    "diversion",
    "theft",
    "illicit_laboratory",
]
"""INCB's incident vocabulary."""

AlertStatus = Literal[
    "open",
    "under_investigation",
    "backtracking",
    "referred_to_prosecution",
    "closed_confirmed",
    "closed_unfounded",
]
"""Where the alert stands in the penal chain."""

PartyRole = Literal[
    "exporter",
    "importer",
    "consignor",
    "consignee",
    "broker",
    "freight_forwarder",
    "carrier",
    "manufacturer",
    "buyer",
    "other",
]

DocumentKind = Literal[
    "container",
    "bill_of_lading",
    "air_waybill",
    "invoice",
    "export_authorisation",
    "import_authorisation",
    "pre_export_notification",
    "customs_declaration",
    "vehicle_registration",
    "other",
]

PersonCategory = Literal["suspect", "convicted", "victim", "witness", "contact", "other"]
"""The categories of data subjects that the Law Enforcement Directive (Art. 6) asks to separate."""

QuantityUnit = Literal["mg", "g", "kg", "t", "ml", "l", "m3", "pcs"]
"""Mass, volume, and ``pcs`` (tablets, packs, pieces: counted, never converted)."""

KILOGRAMS_PER_UNIT: Final[Mapping[str, float]] = MappingProxyType(
    {"mg": 1e-6, "g": 1e-3, "kg": 1.0, "t": 1e3}
)
LITRES_PER_UNIT: Final[Mapping[str, float]] = MappingProxyType({"ml": 1e-3, "l": 1.0, "m3": 1e3})
"""Unit families: quantities add up as kilograms or litres; other units are not summed."""

TransportMode = Literal["sea", "air", "road", "rail", "post", "courier", "multimodal", "unknown"]

HandlingCode = Literal["H0", "H1", "H2", "H3"]
SourceReliability = Literal["A", "B", "C", "D", "X"]
"""Europol 4x4 source evaluation; D is the older code for "cannot be assessed", kept as sent."""
InformationReliability = Literal["1", "2", "3", "4"]
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
"""Traffic Light Protocol 2.0 labels."""

DistributionScope = Literal["network", "kinds", "agencies"]

FieldGroup = Literal["parties", "documents", "persons", "narrative", "reference", "contact"]
"""The sensitive parts of an alert: each sealed on its own, each withheld or shown as a whole."""

FIELD_GROUPS: Final[tuple[FieldGroup, ...]] = get_args(FieldGroup)

HANDLING_CODE_MEANINGS: Final[dict[str, str]] = {
    "H0": (
        "This information may only be used for the purpose of preventing and combating "
        "crimes in line with the ER and any other applicable law."
    ),
    "H1": "Not to be disclosed in judicial proceedings without the permission of the provider.",
    "H2": "Not to be disseminated without the permission of the provider.",
    "H3": "Other restrictions and comments: see restrictions.",
}
"""Europol's handling codes, verbatim, shown with every alert (H1 matters to prosecutors)."""

Stage = Literal[
    "investigation_opened",
    "backtracking_result",
    "controlled_delivery",
    "seizure",
    "laboratory_result",
    "arrest",
    "prosecution_opened",
    "court_decision",
    "sanction",
    "case_closed",
]
"""The kinds of follow-up along the penal chain, in its order: an alert's ``stage`` is the
furthest of them among the follow-ups the caller may see."""

PENAL_CHAIN: Final[tuple[Stage, ...]] = get_args(Stage)

FollowUpKind = Literal[Stage, "note"]
"""What a follow-up records: a step of the penal chain, or a ``note`` (outside the order)."""

FollowUpDistributionScope = Literal["alert", "agencies"]

FollowUpText = Literal["summary", "reference"]
"""A follow-up's sealed texts; ``summary`` is seen like an alert's narrative, ``reference`` like
its reference."""

FOLLOWUP_TEXTS: Final[dict[FollowUpText, FieldGroup]] = {
    "summary": "narrative",
    "reference": "reference",
}
"""Each follow-up text and the alert field group whose visibility it follows."""
