"""key checks: what proves later that the keys directory is the one this database was built with

One row per KEK version (``kek:<version>``: a random value wrapped under that KEK) and one for the
blind-index root key (``blind-index``: an HMAC of a fixed label under it). Written at ``init`` and
whenever the service starts on a database without them; checked before ``serve`` and by
``/readyz``. Never a key, nothing a key can be computed from.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('key_checks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_key_checks'))
    )


def downgrade() -> None:
    op.drop_table('key_checks')
