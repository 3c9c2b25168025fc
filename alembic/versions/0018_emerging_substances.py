"""emerging substances: the ``substance.emerging`` event and the keys already announced

An event about no alert names its substance key (``substance_key`` on both event tables);
``emerging_substances`` holds each uncatalogued key announced, so that it is announced once
(its primary key settles two transactions crossing the thresholds together).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'emerging_substances',
        sa.Column('substance_key', sa.String(length=205), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('substance_key'),
    )
    for table in ('event_intake', 'events'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('substance_key', sa.String(length=205), nullable=True))


def downgrade() -> None:
    for table in ('events', 'event_intake'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('substance_key')
    op.drop_table('emerging_substances')
