"""idempotent batches: an Idempotency-Key row may name no alert (a batch that stored none)

A batch sent with an ``Idempotency-Key`` keeps its whole answer under the key, like a single
create keeps its receipt; a batch whose every item was refused created no alert to name.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('idempotency_keys') as batch_op:
        batch_op.alter_column('alert_id', existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE alert_id IS NULL")
    with op.batch_alter_table('idempotency_keys') as batch_op:
        batch_op.alter_column('alert_id', existing_type=sa.Uuid(), nullable=False)
