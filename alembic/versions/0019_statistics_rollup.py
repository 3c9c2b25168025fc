"""statistics rollup: per (month, substance, reporting agency, audience) counts and sums

Kept current by every alert write from now on; filled here from the alerts already stored (the
audience of a distribution by kinds from its ``alert_audience`` rows, kinds in alphabetical
order). Alerts distributed to an agency by id are found by ``ix_alert_audience_audience``.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = """
INSERT INTO alert_rollup (month, substance_key, reporting_agency_id, audience, alerts,
                          lead_alerts, quantity_kg, kg_lines, quantity_l, l_lines)
SELECT {month}, line.substance_key, alerts.reporting_agency_id,
       {audience}, COUNT(*),
       SUM(CASE WHEN line.substance_key = lead.substance_key THEN 1 ELSE 0 END),
       COALESCE(SUM(line.quantity_kg), 0), COUNT(line.quantity_kg),
       COALESCE(SUM(line.quantity_l), 0), COUNT(line.quantity_l)
FROM alert_substances AS line
JOIN alerts ON alerts.id = line.alert_id
JOIN (SELECT alert_id, MIN(substance_key) AS substance_key FROM alert_substances
      GROUP BY alert_id) AS lead ON lead.alert_id = line.alert_id
GROUP BY {month}, line.substance_key, alerts.reporting_agency_id, {audience}
"""
_KINDS = ("customs", "law_enforcement", "prosecution", "regulatory")
_HAS_KIND = (
    "CASE WHEN EXISTS (SELECT 1 FROM alert_audience WHERE alert_audience.alert_id = alerts.id"
    " AND alert_audience.audience = 'kind:{kind}') THEN '{kind},' ELSE '' END"
)
_AUDIENCE = (
    "CASE alerts.distribution_scope WHEN 'kinds' THEN 'kinds:,' || "
    + " || ".join(_HAS_KIND.format(kind=kind) for kind in _KINDS)
    + " ELSE alerts.distribution_scope END"
)


def upgrade() -> None:
    op.create_table(
        "alert_rollup",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("substance_key", sa.String(length=205), nullable=False),
        sa.Column("reporting_agency_id", sa.Uuid(), nullable=False),
        sa.Column("audience", sa.String(length=80), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("lead_alerts", sa.Integer(), nullable=False),
        sa.Column("quantity_kg", sa.Double(), nullable=False),
        sa.Column("kg_lines", sa.Integer(), nullable=False),
        sa.Column("quantity_l", sa.Double(), nullable=False),
        sa.Column("l_lines", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "substance_key", "reporting_agency_id", "audience"),
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(alerts.detected_on, 'YYYY-MM')"
    else:
        month = "strftime('%Y-%m', alerts.detected_on)"
    op.execute(sa.text(_FILL.format(month=month, audience=_AUDIENCE)))
    op.create_index("ix_alert_audience_audience", "alert_audience", ["audience", "alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_audience_audience", table_name="alert_audience")
    op.drop_table("alert_rollup")
