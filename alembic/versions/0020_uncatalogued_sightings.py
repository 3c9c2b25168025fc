"""uncatalogued sightings: the early warning's rollup, per (day, substance key, agency, name)

Kept current by every alert write from now on; filled here from the substance rows already
stored whose key the catalogue of this release does not list (a name not reported is ``''``).
A release whose catalogue stops listing a key must fill that key's rows the same way.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from exchange_api.reference.catalogue import catalogue_keys

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = sa.text(
    """
INSERT INTO uncatalogued_sightings (detected_on, substance_key, reporting_agency_id, name, alerts)
SELECT alerts.detected_on, line.substance_key, alerts.reporting_agency_id,
       COALESCE(line.name, ''), COUNT(*)
FROM alert_substances AS line
JOIN alerts ON alerts.id = line.alert_id
WHERE line.substance_key NOT IN :catalogued
GROUP BY alerts.detected_on, line.substance_key, alerts.reporting_agency_id, COALESCE(line.name, '')
"""
).bindparams(sa.bindparam("catalogued", expanding=True))


def upgrade() -> None:
    op.create_table(
        "uncatalogued_sightings",
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("substance_key", sa.String(length=205), nullable=False),
        sa.Column("reporting_agency_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("detected_on", "substance_key", "reporting_agency_id", "name"),
    )
    op.get_bind().execute(_FILL, {"catalogued": sorted(catalogue_keys())})


def downgrade() -> None:
    op.drop_table("uncatalogued_sightings")
