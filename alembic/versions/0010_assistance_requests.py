"""assistance requests: agencies ask each other for help about an alert, with a deadline

One row per request: who asked whom, about which alert, the kind, the urgency and the due date in
plain columns; the message and the reply sealed under the alert's data key. Indexes serve the
addressee's inbox and the sender's outbox (newest first) and retention's lookup by alert.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'assistance_requests',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('alert_id', sa.Uuid(), nullable=False),
        sa.Column('from_agency_id', sa.Uuid(), nullable=False),
        sa.Column('to_agency_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('urgency', sa.String(length=16), nullable=False),
        sa.Column('due_by', sa.Date(), nullable=False),
        sa.Column('sealed_message', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('sealed_reply', sa.LargeBinary(), nullable=True),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['alert_id'], ['alerts.id'], name=op.f('fk_assistance_requests_alert_id_alerts')
        ),
        sa.ForeignKeyConstraint(
            ['from_agency_id'],
            ['agencies.id'],
            name=op.f('fk_assistance_requests_from_agency_id_agencies'),
        ),
        sa.ForeignKeyConstraint(
            ['to_agency_id'],
            ['agencies.id'],
            name=op.f('fk_assistance_requests_to_agency_id_agencies'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_requests')),
    )
    with op.batch_alter_table('assistance_requests', schema=None) as batch_op:
        batch_op.create_index(
            'ix_assistance_requests_to_agency_id_id', ['to_agency_id', 'id'], unique=False
        )
        batch_op.create_index(
            'ix_assistance_requests_from_agency_id_id', ['from_agency_id', 'id'], unique=False
        )
        batch_op.create_index('ix_assistance_requests_alert_id', ['alert_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assistance_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_assistance_requests_alert_id')
        batch_op.drop_index('ix_assistance_requests_from_agency_id_id')
        batch_op.drop_index('ix_assistance_requests_to_agency_id_id')
    op.drop_table('assistance_requests')
