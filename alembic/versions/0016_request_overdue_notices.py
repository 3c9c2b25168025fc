"""request overdue notices: when each request's ``request.overdue`` event was produced

Overdue is derived from the date; the notice is produced once per request, by whichever worker
finds it first, and this column says it was. ``ix_assistance_requests_due_by`` is the way in.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assistance_requests') as batch_op:
        batch_op.add_column(sa.Column('overdue_noticed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_assistance_requests_due_by', ['due_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assistance_requests') as batch_op:
        batch_op.drop_index('ix_assistance_requests_due_by')
        batch_op.drop_column('overdue_noticed_at')
