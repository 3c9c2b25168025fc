"""alert retention: shredded alerts keep their routing facts, lose their key and ciphertexts

``shredded_at`` marks an alert whose review date passed and whose wrapped DEK and sealed field
groups were set to NULL (crypto-shredding, docs/decisions/0008). ``ix_alerts_due`` holds only the alerts
not yet shredded, in the order retention takes them, so a pass reads what it shreds and nothing
else; ``ix_idempotency_keys_created_at`` lets the same pass find expired Idempotency-Keys.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHREDDABLE = (
    'wrapped_dek',
    'sealed_parties',
    'sealed_documents',
    'sealed_persons',
    'sealed_narrative',
    'sealed_reference',
    'sealed_contact',
)


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shredded_at', sa.DateTime(timezone=True), nullable=True))
        for column in _SHREDDABLE:
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index(
            'ix_alerts_due',
            ['review_by', 'id'],
            unique=False,
            postgresql_where=sa.text('shredded_at IS NULL'),
            sqlite_where=sa.text('shredded_at IS NULL'),
        )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    # Only possible while no alert is shredded: a NULL key cannot be made NOT NULL again.
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created_at')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_due')
        for column in _SHREDDABLE:
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('shredded_at')
