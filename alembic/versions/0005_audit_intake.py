"""audit intake: entries recorded by requests, chained into audit_entries by the sequencer

Requests insert here without locking the chain head, so concurrent requests commit together
(one fsync for many) instead of one after another. Rows are inserted and deleted (by the
sequencer, in the transaction that chains them), never updated.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = 'the audit log is append-only'


def upgrade() -> None:
    op.create_table('audit_intake',
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('agency', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('resource_ids', sa.JSON(), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('token_id', sa.String(length=128), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('source_ip', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_intake'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        # A queue: every row is deleted soon after it is inserted. Vacuum it by a fixed number
        # of dead rows, not by a fraction of a table that is nearly always empty.
        op.execute(
            'ALTER TABLE audit_intake SET (autovacuum_vacuum_scale_factor = 0, '
            'autovacuum_vacuum_threshold = 10000)'
        )
        # audit_refuse_change() is migration 0004's.
        op.execute(
            'CREATE TRIGGER audit_intake_no_update BEFORE UPDATE ON audit_intake '
            'FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()'
        )
        return
    op.execute(
        'CREATE TRIGGER audit_intake_no_update BEFORE UPDATE ON audit_intake '
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: UPDATE on audit_intake refused'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_intake_no_update ON audit_intake')
    else:
        op.execute('DROP TRIGGER audit_intake_no_update')
    op.drop_table('audit_intake')
