"""Every table, imported here so that Alembic's autogenerate sees them all.

Tables hold ciphertext and keys' versions; API schemas live in each domain's ``schemas.py`` and
never inherit from these.
"""

from sqlmodel import SQLModel

# Named constraints, so that migrations can refer to them on SQLite and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from exchange_api.models.agencies import Agency, AgencyKind, Client  # noqa: E402
from exchange_api.models.alerts import (  # noqa: E402
    Alert,
    AlertAudience,
    AlertCountry,
    AlertSubstance,
    AlertTag,
    AlertVersionRecord,
    IdempotencyKey,
)
from exchange_api.models.assistance import AssistanceRequest  # noqa: E402
from exchange_api.models.audit import (  # noqa: E402
    AuditChainHead,
    AuditCheckpointRecord,
    AuditEntryRecord,
    AuditEntryResource,
    AuditIntakeRecord,
)
from exchange_api.models.events import (  # noqa: E402
    EmergingSubstance,
    EventHead,
    EventIntakeRecord,
    EventMatch,
    EventRecord,
    Subscription,
    SubscriptionCriterion,
    WebhookDelivery,
)
from exchange_api.models.followups import FollowUp, FollowUpAudience  # noqa: E402
from exchange_api.models.keys import KeyCheckRecord  # noqa: E402
from exchange_api.models.oauth import RevokedToken, SeenDPoPProof, UsedClientAssertion  # noqa: E402
from exchange_api.models.statistics import AlertRollup, UncataloguedSighting  # noqa: E402

__all__ = [
    "Agency",
    "AgencyKind",
    "Alert",
    "AlertAudience",
    "AlertCountry",
    "AlertRollup",
    "AlertSubstance",
    "AlertTag",
    "AlertVersionRecord",
    "AssistanceRequest",
    "AuditChainHead",
    "AuditCheckpointRecord",
    "AuditEntryRecord",
    "AuditEntryResource",
    "AuditIntakeRecord",
    "Client",
    "EmergingSubstance",
    "EventHead",
    "EventIntakeRecord",
    "EventMatch",
    "EventRecord",
    "FollowUp",
    "FollowUpAudience",
    "IdempotencyKey",
    "KeyCheckRecord",
    "RevokedToken",
    "SeenDPoPProof",
    "Subscription",
    "SubscriptionCriterion",
    "UncataloguedSighting",
    "UsedClientAssertion",
    "WebhookDelivery",
]
