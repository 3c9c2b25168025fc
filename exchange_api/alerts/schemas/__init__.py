"""API models of the exchange format: what agencies send and receive (docs/contract.md §3).

These hold plaintext and never inherit from the tables (which hold ciphertext). ``parts`` are the
pieces of an alert and their checks, ``alert`` the alert itself as sent and as read, ``answers``
the search parameters and the answers that list things.
"""

from exchange_api.alerts.schemas.alert import (
    AlertCreate,
    AlertPatch,
    AlertRead,
    AlertReceipt,
    AlertSummary,
)
from exchange_api.alerts.schemas.answers import (
    MAX_BATCH_ITEMS,
    AlertFilterQuery,
    AlertHistory,
    AlertLinks,
    AlertList,
    AlertQuery,
    AlertVersion,
    BatchCreate,
    BatchItemError,
    BatchItemResult,
    BatchResult,
    CommonValue,
    FieldChange,
    FollowUpEntry,
    LinkedAlert,
    SharedValue,
)
from exchange_api.alerts.schemas.parts import (
    Distribution,
    Document,
    Handling,
    HandlingRead,
    Party,
    Person,
    Route,
    SubstanceLine,
    SubstanceRead,
    latest_date_anywhere,
)

__all__ = [
    "MAX_BATCH_ITEMS",
    "AlertCreate",
    "AlertFilterQuery",
    "AlertHistory",
    "AlertLinks",
    "AlertList",
    "AlertPatch",
    "AlertQuery",
    "AlertRead",
    "AlertReceipt",
    "AlertSummary",
    "AlertVersion",
    "BatchCreate",
    "BatchItemError",
    "BatchItemResult",
    "BatchResult",
    "CommonValue",
    "Distribution",
    "Document",
    "FieldChange",
    "FollowUpEntry",
    "Handling",
    "HandlingRead",
    "LinkedAlert",
    "Party",
    "Person",
    "Route",
    "SharedValue",
    "SubstanceLine",
    "SubstanceRead",
    "latest_date_anywhere",
]
