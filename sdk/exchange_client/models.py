"""Typed results and bodies of the exchange API, generated from openapi/openapi.json.

Do not edit: ``python sdk/tools/generate_models.py openapi/openapi.json`` writes this file, and a
test fails when it no longer matches the API.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

AgencyKind = Literal["law_enforcement", "customs", "regulatory", "prosecution", "industry"]

AuditAction = Literal[
    "token.issue",
    "token.deny",
    "token.revoke",
    "token.introspect",
    "alert.create",
    "alert.create.replay",
    "alert.read",
    "alert.update",
    "alert.search",
    "alert.history",
    "alert.links",
    "alert.shred",
    "followup.create",
    "followup.read",
    "agency.list",
    "agency.read",
    "request.create",
    "request.list",
    "request.read",
    "request.reply",
    "audit.read",
    "audit.export",
    "audit.checkpoint",
    "admin.agency.create",
    "admin.agency.list",
    "admin.client.create",
    "admin.client.list",
    "admin.client.disable",
    "admin.client.enable",
    "admin.keys.rotate",
    "admin.keys.rewrap",
    "access.denied",
    "event.read",
    "event.deliver",
    "subscription.create",
    "subscription.read",
    "subscription.delete",
    "subscription.resume",
    "statistics.read",
]

EventType = Literal[
    "alert.created",
    "alert.updated",
    "alert.shredded",
    "followup.created",
    "request.created",
    "request.answered",
    "request.overdue",
    "substance.emerging",
]

Outcome = Literal["allowed", "denied", "error"]

Scope = Literal["alerts:read", "alerts:write", "audit:read", "clients:admin", "network:admin"]


class AgencyCreate(TypedDict):
    """A member agency to register."""

    country: str
    kind: AgencyKind
    name: str


class AgencyDirectory(TypedDict):
    """One page of the directory, oldest first."""

    items: list[AgencyEntry]
    next_cursor: str | None


class AgencyEntry(TypedDict):
    """A member agency as every member sees it in the directory."""

    country: str
    id: str
    kind: AgencyKind
    name: str


class AgencyList(TypedDict):
    """One page of agencies, oldest first."""

    items: list[AgencyRead]
    next_cursor: str | None


class AgencyRead(TypedDict):
    """A member agency as the admin API shows it."""

    country: str
    created_at: str
    id: str
    kind: AgencyKind
    name: str


class AlertCell(TypedDict):
    alerts: int
    key: str
    quantity_kg: float | None
    quantity_l: float | None


class AlertCreate(TypedDict):
    """An alert as an agency system sends it. Unknown fields are refused."""

    contact: NotRequired[str | None]
    detected_on: str
    distribution: Distribution
    documents: NotRequired[list[Document]]
    handling: Handling
    incident_type: Literal[
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
    narrative: NotRequired[str | None]
    parties: NotRequired[list[Party]]
    persons: NotRequired[list[Person]]
    reference: NotRequired[str | None]
    review_by: NotRequired[str | None]
    route: NotRequired[Route]
    status: NotRequired[
        Literal[
            "open",
            "under_investigation",
            "backtracking",
            "referred_to_prosecution",
            "closed_confirmed",
            "closed_unfounded",
        ]
    ]
    substances: list[SubstanceLine]


class AlertHistory(TypedDict):
    """Every version and every follow-up the caller may see, oldest first. One page: an alert's
    history is bounded by its edits and follow-ups.
    """

    items: list[AlertVersion | FollowUpEntry]
    next_cursor: NotRequired[str | None]


class AlertLinks(TypedDict):
    """Visible alerts sharing a party, document or person with this one, newest first. One page:
    each value links at most the threshold's number of alerts (beyond it the value is reported
    under ``common``), so the answer is bounded.
    """

    common: list[CommonValue]
    items: list[LinkedAlert]
    next_cursor: NotRequired[str | None]


class AlertList(TypedDict):
    """One page of a search, newest first."""

    items: list[AlertSummary]
    next_cursor: str | None


class AlertPatch(TypedDict):
    """A change to an alert: a JSON Merge Patch (RFC 7386), ``application/merge-patch+json``. A
    member present replaces the current value; the objects ``route``, ``handling`` and
    ``distribution`` are merged member by member; ``null`` removes a member (``review_by`` then
    falls back to its default); lists are replaced whole. The patched alert must be a valid
    AlertCreate, and id, version and reporting agency cannot be set.
    """

    contact: NotRequired[str | None]
    detected_on: NotRequired[str | None]
    distribution: NotRequired[dict[str, Any] | None]
    documents: NotRequired[list[Document] | None]
    handling: NotRequired[dict[str, Any] | None]
    incident_type: NotRequired[
        Literal[
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
        | None
    ]
    narrative: NotRequired[str | None]
    parties: NotRequired[list[Party] | None]
    persons: NotRequired[list[Person] | None]
    reference: NotRequired[str | None]
    review_by: NotRequired[str | None]
    route: NotRequired[dict[str, Any] | None]
    status: NotRequired[
        Literal[
            "open",
            "under_investigation",
            "backtracking",
            "referred_to_prosecution",
            "closed_confirmed",
            "closed_unfounded",
        ]
        | None
    ]
    substances: NotRequired[list[SubstanceLine] | None]


class AlertRead(TypedDict):
    """An alert as the caller may see it: withheld field groups are absent and listed."""

    contact: NotRequired[str | None]
    created_at: str
    detected_on: str
    distribution: Distribution
    documents: NotRequired[list[Document] | None]
    followups: int
    handling: HandlingRead
    id: str
    incident_type: Literal[
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
    narrative: NotRequired[str | None]
    parties: NotRequired[list[Party] | None]
    persons: NotRequired[list[Person] | None]
    reference: NotRequired[str | None]
    reporting_agency: str
    review_by: str
    route: Route
    stage: (
        Literal[
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
        | None
    )
    status: Literal[
        "open",
        "under_investigation",
        "backtracking",
        "referred_to_prosecution",
        "closed_confirmed",
        "closed_unfounded",
    ]
    substances: list[SubstanceRead]
    updated_at: str
    version: int
    withheld: list[Literal["parties", "documents", "persons", "narrative", "reference", "contact"]]


class AlertReceipt(TypedDict):
    """The answer to a create or a change: the alert's id and new version, and what the catalogue
    says of its substances. No sensitive field is echoed back.
    """

    created_at: str
    id: str
    review_by: str
    substances: list[SubstanceRead]
    updated_at: str
    version: int


class AlertStatistics(TypedDict):
    group_by: Literal[
        "substance",
        "origin",
        "transit",
        "destination",
        "country",
        "incident_type",
        "status",
        "month",
        "reporting_country",
    ]
    items: list[AlertCell]
    scope: Literal["visible", "network"]
    suppressed: int


class AlertSummary(TypedDict):
    """An alert's routing facts, as search lists them (no sensitive field is opened)."""

    created_at: str
    detected_on: str
    distribution: Distribution
    handling: HandlingRead
    id: str
    incident_type: Literal[
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
    reporting_agency: str
    review_by: str
    route: Route
    status: Literal[
        "open",
        "under_investigation",
        "backtracking",
        "referred_to_prosecution",
        "closed_confirmed",
        "closed_unfounded",
    ]
    substances: list[SubstanceRead]
    updated_at: str
    version: int


class AlertVersion(TypedDict):
    """A version of the alert: its creation or a change."""

    agency: str
    at: str
    changes: list[FieldChange]
    event: Literal["created", "updated"]
    officer: str | None
    version: int


class AuditEventList(TypedDict):
    """One page of audit entries, oldest first."""

    items: list[AuditEventRead]
    next_cursor: str | None


class AuditEventRead(TypedDict):
    """One audit log entry: who did what to which resources, when, why, and its chain links."""

    action: AuditAction
    actor: str | None
    agency: str | None
    at: str
    client_id: str | None
    fields: list[str]
    hash: str
    outcome: Outcome
    prev_hash: str
    purpose: str | None
    request_id: str | None
    resource_ids: list[str]
    result_count: int | None
    seq: int
    source_ip: str | None
    token_id: str | None


class AuditKeySet(TypedDict):
    """The JWKS of the keys that sign audit checkpoints."""

    keys: list[PublicAuditKey]


class AuthorizationServerMetadata(TypedDict):
    """RFC 8414 authorization server metadata."""

    dpop_signing_alg_values_supported: list[str]
    grant_types_supported: list[str]
    introspection_endpoint: str
    introspection_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_signing_alg_values_supported: list[str]
    issuer: str
    jwks_uri: str
    response_types_supported: list[str]
    revocation_endpoint: str
    revocation_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    token_endpoint: str
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]


class BatchCreate(TypedDict):
    """Up to 500 alerts; each is validated on its own, so one bad item does not sink the rest."""

    alerts: list[dict[str, Any]]


class BatchItemError(TypedDict):
    error: dict[str, Any]
    index: int


class BatchItemResult(TypedDict):
    id: str
    index: int


class BatchResult(TypedDict):
    """One result per item, in the order sent."""

    results: list[BatchItemResult | BatchItemError]


class CheckpointRead(TypedDict):
    """A signed statement "entry `seq` of log `log_id` has hash `hash`" (Ed25519, base64url over
    the canonical JSON of `{log_id, seq, hash, at}`).
    """

    at: str
    hash: str
    kid: str
    log_id: str
    seq: int
    signature: str


class ClientCreate(TypedDict):
    """A client system to register for an agency. ``private_key_jwt`` (the default, and the only
    method in production) needs the client's public keys as a JWKS: EC P-256, RSA ≥ 2048 bits or
    Ed25519, public members only. ``client_secret_basic`` (development) makes a secret, shown
    once in the answer.
    """

    agency_id: str
    jwks: NotRequired[dict[str, Any] | None]
    name: str
    scopes: list[Scope]
    token_endpoint_auth_method: NotRequired[Literal["private_key_jwt", "client_secret_basic"]]


class ClientList(TypedDict):
    """One page of clients, by ``client_id``."""

    items: list[ClientRead]
    next_cursor: str | None


class ClientRead(TypedDict):
    agency_id: str
    client_id: str
    created_at: str
    disabled_at: str | None
    jwks: dict[str, Any] | None
    name: str
    scopes: list[str]
    token_endpoint_auth_method: Literal["private_key_jwt", "client_secret_basic"]


class ClientRegistered(TypedDict):
    """The registered client; for ``client_secret_basic``, the only time its secret is shown."""

    agency_id: str
    client_id: str
    client_secret: NotRequired[str | None]
    created_at: str
    disabled_at: str | None
    jwks: dict[str, Any] | None
    name: str
    scopes: list[str]
    token_endpoint_auth_method: Literal["private_key_jwt", "client_secret_basic"]


class CommonValue(TypedDict):
    """A value shared by more alerts than the links threshold: too common to link on."""

    field: Literal["party.name", "party.identifier", "document.number", "person.name_dob"]
    more_than: int
    value: str | None


class DeliveryList(TypedDict):
    """A watch list's deliveries, newest first."""

    items: list[DeliveryRead]
    next_cursor: str | None


class DeliveryRead(TypedDict):
    """One event sent (or to send) to the watch list's webhook."""

    attempts: int
    created_at: str
    delivered_at: str | None
    event_id: str
    last_attempt_at: str | None
    last_error: str | None
    last_status: int | None
    next_attempt_at: str | None
    state: Literal["pending", "delivered", "refused", "expired"]


class Distribution(TypedDict):
    """Who may see the alert besides the reporting agency (which always sees its own)."""

    agencies: NotRequired[list[str]]
    kinds: NotRequired[list[AgencyKind]]
    scope: Literal["network", "kinds", "agencies"]


class Document(TypedDict):
    """A document or transport unit. The number is blind-indexed; containers must pass ISO 6346."""

    issued_by: NotRequired[str | None]
    kind: Literal[
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
    number: str


class EmergingList(TypedDict):
    items: list[EmergingSubstance]


class EmergingSubstance(TypedDict):
    agencies: int
    alerts: int
    cas: str | None
    countries: list[str]
    first_seen: str
    last_seen: str
    name: str | None


class Event(TypedDict):
    """One event: ids and routing facts, never a sealed value."""

    alert: AlertSummary | None
    alert_id: str | None
    at: str
    followup_id: str | None
    id: str
    request_id: str | None
    subscriptions: list[str]
    substance: NotRequired[EventSubstance | None]
    type: EventType


class EventPage(TypedDict):
    """One page of the feed, oldest first."""

    items: list[Event]
    next_cursor: str


class EventSubstance(TypedDict):
    """The substance of a `substance.emerging` event: routing facts only."""

    cas: str | None
    key: str
    name: str | None


class FieldChange(TypedDict):
    """A changed field. Routing facts show old and new values; sensitive groups only the name."""

    field: str
    new: NotRequired[Any | None]
    old: NotRequired[Any | None]


class FollowUpCreate(TypedDict):
    """A follow-up as an agency system sends it. Immutable once stored: to correct one, send a new
    follow-up whose ``corrects`` names it. Unknown fields are refused.
    """

    arrests: NotRequired[int | None]
    corrects: NotRequired[str | None]
    distribution: NotRequired[FollowUpDistribution]
    handling: Handling
    kind: Literal[
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
        "note",
    ]
    occurred_on: str
    reference: NotRequired[str | None]
    seized: NotRequired[list[SubstanceLine]]
    summary: str


class FollowUpDistribution(TypedDict):
    """Who sees the follow-up: whoever sees the alert (``alert``), or the ``agencies`` listed that
    also see the alert. The alert's reporting agency and the follower always see it.
    """

    agencies: NotRequired[list[str]]
    scope: NotRequired[Literal["alert", "agencies"]]


class FollowUpEntry(TypedDict):
    """A follow-up added to the alert (it does not change the alert's version). Its texts are read
    through the follow-ups list, never here.
    """

    agency: str
    at: str
    event: Literal["followup"]
    followup: str
    kind: Literal[
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
        "note",
    ]


class FollowUpList(TypedDict):
    """One page of an alert's follow-ups, oldest first."""

    items: list[FollowUpRead]
    next_cursor: str | None


class FollowUpRead(TypedDict):
    """A follow-up as the caller may see it: texts it may not read are absent and listed in
    ``withheld``.
    """

    agency: str
    alert: str
    arrests: int | None
    corrects: str | None
    created_at: str
    distribution: FollowUpDistribution
    handling: HandlingRead
    id: str
    kind: Literal[
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
        "note",
    ]
    occurred_on: str
    reference: NotRequired[str | None]
    seized: list[SubstanceRead]
    summary: NotRequired[str | None]
    withheld: list[Literal["summary", "reference"]]


class FollowUpReceipt(TypedDict):
    """The answer to a new follow-up: its id, its alert and when it was stored. No text is echoed
    back.
    """

    alert: str
    created_at: str
    id: str


class Handling(TypedDict):
    """How the information may be used and passed on (Europol handling code, 4x4, TLP 2.0)."""

    code: Literal["H0", "H1", "H2", "H3"]
    information_reliability: Literal["1", "2", "3", "4"]
    restrictions: NotRequired[str | None]
    source_reliability: Literal["A", "B", "C", "D", "X"]
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"]


class HandlingRead(TypedDict):
    code: Literal["H0", "H1", "H2", "H3"]
    information_reliability: Literal["1", "2", "3", "4"]
    meaning: str
    restrictions: NotRequired[str | None]
    source_reliability: Literal["A", "B", "C", "D", "X"]
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"]


class IntrospectionResponse(TypedDict):
    """RFC 7662 §2.2: ``{"active": false}``, or the token's claims."""

    active: bool
    agency: NotRequired[str | None]
    aud: NotRequired[str | None]
    client_id: NotRequired[str | None]
    cnf: NotRequired[dict[str, str] | None]
    exp: NotRequired[int | None]
    iat: NotRequired[int | None]
    iss: NotRequired[str | None]
    jti: NotRequired[str | None]
    scope: NotRequired[str | None]
    sub: NotRequired[str | None]
    token_type: NotRequired[Literal["Bearer", "DPoP"] | None]


class JsonWebKeySet(TypedDict):
    keys: list[dict[str, Any]]


class LinkedAlert(TypedDict):
    id: str
    shared: list[SharedValue]


class OAuthErrorBody(TypedDict):
    """An RFC 6749 §5.2 error: what the authorization server answers, not problem+json."""

    error: str
    error_description: str


class Party(TypedDict):
    """A company or organisation in the trade. Name and identifier are blind-indexed."""

    country: NotRequired[str | None]
    identifier: NotRequired[str | None]
    name: str
    role: Literal[
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


class PenalChainCell(TypedDict):
    alerts: int
    key: str
    stages: dict[str, int]


class PenalChainStatistics(TypedDict):
    group_by: Literal[
        "substance",
        "origin",
        "transit",
        "destination",
        "country",
        "incident_type",
        "status",
        "month",
        "reporting_country",
    ]
    items: list[PenalChainCell]
    scope: Literal["visible", "network"]
    suppressed: int


class Person(TypedDict):
    """A natural person. Name and date of birth together are blind-indexed."""

    category: Literal["suspect", "convicted", "victim", "witness", "contact", "other"]
    date_of_birth: NotRequired[str | None]
    identity_document: NotRequired[str | None]
    name: str
    nationality: NotRequired[str | None]
    role: NotRequired[str | None]


class Problem(TypedDict):
    """An RFC 9457 problem document, the shape of every error this service returns."""

    detail: str
    errors: NotRequired[list[ValidationIssue] | None]
    status: int
    title: str
    type: str


class PublicAuditKey(TypedDict):
    alg: Literal["EdDSA"]
    crv: Literal["Ed25519"]
    kid: str
    kty: Literal["OKP"]
    use: Literal["sig"]
    x: str


class ReplyRead(TypedDict):
    at: str
    message: str
    outcome: Literal["answered", "declined"]


class RequestCreate(TypedDict):
    """A request to another agency about an alert both can see."""

    due_by: str
    kind: Literal["backtracking", "information", "controlled_delivery", "judicial_use"]
    message: str
    to: str
    urgency: NotRequired[Literal["routine", "urgent", "immediate"]]


class RequestList(TypedDict):
    """One page of a box, newest first."""

    items: list[RequestSummary]
    next_cursor: str | None


RequestRead = TypedDict(
    "RequestRead",
    {
        "alert_id": str,
        "created_at": str,
        "due_by": str,
        "from": str,
        "id": str,
        "kind": Literal["backtracking", "information", "controlled_delivery", "judicial_use"],
        "message": str,
        "replied_at": str | None,
        "reply": ReplyRead | None,
        "state": Literal["open", "answered", "declined", "overdue"],
        "to": str,
        "urgency": Literal["routine", "urgent", "immediate"],
    },
)


class RequestReply(TypedDict):
    """The addressee's one answer to a request."""

    message: str
    outcome: Literal["answered", "declined"]


RequestSummary = TypedDict(
    "RequestSummary",
    {
        "alert_id": str,
        "created_at": str,
        "due_by": str,
        "from": str,
        "id": str,
        "kind": Literal["backtracking", "information", "controlled_delivery", "judicial_use"],
        "replied_at": str | None,
        "state": Literal["open", "answered", "declined", "overdue"],
        "to": str,
        "urgency": Literal["routine", "urgent", "immediate"],
    },
)


class Route(TypedDict):
    """Where the consignment came from, passed through and was going."""

    destination: NotRequired[str | None]
    origin: NotRequired[str | None]
    port_of_discharge: NotRequired[str | None]
    port_of_loading: NotRequired[str | None]
    transit: NotRequired[list[str]]
    transport_mode: NotRequired[
        Literal["sea", "air", "road", "rail", "post", "courier", "multimodal", "unknown"] | None
    ]


class SharedValue(TypedDict):
    field: Literal["party.name", "party.identifier", "document.number", "person.name_dob"]
    value: str | None


class SubscriptionCreate(TypedDict):
    filter: NotRequired[SubscriptionFilter]
    name: str
    webhook: NotRequired[WebhookCreate | None]


class SubscriptionCreated(TypedDict):
    created_at: str
    failing_since: str | None
    filter: dict[str, Any]
    id: str
    name: str
    secret: str | None
    state: Literal["active", "failing"]
    webhook: dict[str, str] | None


class SubscriptionFilter(TypedDict):
    """What a watch list matches: the search filters (AND across, OR within a list)."""

    country: NotRequired[str | None]
    destination: NotRequired[str | None]
    document: NotRequired[str | None]
    incident_type: NotRequired[
        list[
            Literal[
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
        ]
    ]
    origin: NotRequired[str | None]
    party: NotRequired[str | None]
    substance: NotRequired[list[str]]
    substance_name: NotRequired[str | None]
    transit: NotRequired[str | None]


class SubscriptionList(TypedDict):
    """The caller's watch lists."""

    items: list[SubscriptionRead]
    next_cursor: str | None


class SubscriptionRead(TypedDict):
    """A watch list; `party` and `document` are shown as `"<set>"`."""

    created_at: str
    failing_since: str | None
    filter: dict[str, Any]
    id: str
    name: str
    state: Literal["active", "failing"]
    webhook: dict[str, str] | None


class Substance(TypedDict):
    """One chemical of the catalogue and its control status."""

    cas: str | None
    eu_category: Literal["1", "2A", "2B", "3", "4"] | None
    hs_code: str | None
    key: str
    name: str
    note: NotRequired[str | None]
    other_cas: NotRequired[list[str]]
    scheduled: bool
    synonyms: NotRequired[list[str]]
    un_table: Literal["I", "II"] | None
    year_scheduled: int | None


class SubstanceLine(TypedDict):
    """One chemical of the consignment, by CAS number, by name, or both. Any valid CAS number is
    accepted, listed or not, and so is any name: designer precursors and pre-precursors often
    have no CAS number yet, and new substances are the point of early warning. The name is a
    routing fact (plain at rest), kept as sent.
    """

    cas: NotRequired[str | None]
    concentration_pct: NotRequired[float | None]
    name: NotRequired[str | None]
    quantity: NotRequired[float | None]
    unit: NotRequired[Literal["mg", "g", "kg", "t", "ml", "l", "m3", "pcs"] | None]


class SubstanceList(TypedDict):
    """One page of substances, by name then key."""

    items: list[Substance]
    next_cursor: str | None


class SubstanceRead(TypedDict):
    """A substance line as read back (``cas`` and ``name`` as sent; a line sent by CAS number alone
    reads with the catalogue's name), with what the catalogue knows of it.
    """

    cas: NotRequired[str | None]
    catalogue_cas: str | None
    catalogue_name: str | None
    concentration_pct: NotRequired[float | None]
    name: NotRequired[str | None]
    quantity: NotRequired[float | None]
    scheduled: bool
    unit: NotRequired[Literal["mg", "g", "kg", "t", "ml", "l", "m3", "pcs"] | None]


class TokenResponse(TypedDict):
    access_token: str
    expires_in: int
    scope: str
    token_type: Literal["Bearer", "DPoP"]


class ValidationIssue(TypedDict):
    """One reason a request failed validation: where, and what was wrong (never the value)."""

    loc: list[int | str]
    msg: str


class WebhookCreate(TypedDict):
    url: str


__all__ = [
    "AgencyCreate",
    "AgencyDirectory",
    "AgencyEntry",
    "AgencyKind",
    "AgencyList",
    "AgencyRead",
    "AlertCell",
    "AlertCreate",
    "AlertHistory",
    "AlertLinks",
    "AlertList",
    "AlertPatch",
    "AlertRead",
    "AlertReceipt",
    "AlertStatistics",
    "AlertSummary",
    "AlertVersion",
    "AuditAction",
    "AuditEventList",
    "AuditEventRead",
    "AuditKeySet",
    "AuthorizationServerMetadata",
    "BatchCreate",
    "BatchItemError",
    "BatchItemResult",
    "BatchResult",
    "CheckpointRead",
    "ClientCreate",
    "ClientList",
    "ClientRead",
    "ClientRegistered",
    "CommonValue",
    "DeliveryList",
    "DeliveryRead",
    "Distribution",
    "Document",
    "EmergingList",
    "EmergingSubstance",
    "Event",
    "EventPage",
    "EventSubstance",
    "EventType",
    "FieldChange",
    "FollowUpCreate",
    "FollowUpDistribution",
    "FollowUpEntry",
    "FollowUpList",
    "FollowUpRead",
    "FollowUpReceipt",
    "Handling",
    "HandlingRead",
    "IntrospectionResponse",
    "JsonWebKeySet",
    "LinkedAlert",
    "OAuthErrorBody",
    "Outcome",
    "Party",
    "PenalChainCell",
    "PenalChainStatistics",
    "Person",
    "Problem",
    "PublicAuditKey",
    "ReplyRead",
    "RequestCreate",
    "RequestList",
    "RequestRead",
    "RequestReply",
    "RequestSummary",
    "Route",
    "Scope",
    "SharedValue",
    "SubscriptionCreate",
    "SubscriptionCreated",
    "SubscriptionFilter",
    "SubscriptionList",
    "SubscriptionRead",
    "Substance",
    "SubstanceLine",
    "SubstanceList",
    "SubstanceRead",
    "TokenResponse",
    "ValidationIssue",
    "WebhookCreate",
]
