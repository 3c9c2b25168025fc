"""followups: what happened next to an alert, along the penal chain

``followups`` holds each follow-up's routing facts in plain columns and its summary and
reference sealed under the alert's data key (NULL once the alert is shredded);
``followup_audience`` lists the agencies of a follow-up distributed to named agencies.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('followups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('seized', sa.JSON(), nullable=False),
    sa.Column('arrests', sa.Integer(), nullable=True),
    sa.Column('corrects', sa.Uuid(), nullable=True),
    sa.Column('handling', sa.JSON(), nullable=False),
    sa.Column('distribution_scope', sa.String(length=16), nullable=False),
    sa.Column('distribution', sa.JSON(), nullable=False),
    sa.Column('sealed_summary', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_reference', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followups_agency_id_agencies')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_followups_alert_id_alerts')),
    sa.ForeignKeyConstraint(['corrects'], ['followups.id'], name=op.f('fk_followups_corrects_followups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followups'))
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index('ix_followups_alert_id_id', ['alert_id', 'id'], unique=False)

    op.create_table('followup_audience',
    sa.Column('followup_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followup_audience_agency_id_agencies')),
    sa.ForeignKeyConstraint(['followup_id'], ['followups.id'], name=op.f('fk_followup_audience_followup_id_followups')),
    sa.PrimaryKeyConstraint('followup_id', 'agency_id', name=op.f('pk_followup_audience'))
    )


def downgrade() -> None:
    op.drop_table('followup_audience')
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index('ix_followups_alert_id_id')
    op.drop_table('followups')
