"""oauth replay caches and revoked tokens

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('revoked_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens'))
    )
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_tokens_expires_at'), ['expires_at'], unique=False)

    op.create_table('seen_dpop_proofs',
    sa.Column('proof_digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('proof_digest', name=op.f('pk_seen_dpop_proofs'))
    )
    with op.batch_alter_table('seen_dpop_proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_dpop_proofs_expires_at'), ['expires_at'], unique=False)

    op.create_table('used_client_assertions',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('jti_digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'jti_digest', name=op.f('pk_used_client_assertions'))
    )
    with op.batch_alter_table('used_client_assertions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_client_assertions_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('used_client_assertions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_client_assertions_expires_at'))

    op.drop_table('used_client_assertions')
    with op.batch_alter_table('seen_dpop_proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_dpop_proofs_expires_at'))

    op.drop_table('seen_dpop_proofs')
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_tokens_expires_at'))

    op.drop_table('revoked_tokens')
