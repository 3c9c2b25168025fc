"""audit log: append-only entries (refused UPDATE/DELETE by triggers), chain head, checkpoints

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_APPEND_ONLY = ('audit_entries', 'audit_entry_resources', 'audit_checkpoints')
_REFUSAL = 'the audit log is append-only'

_PG_REFUSE = f"""
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$
"""
_PG_HEAD_FORWARD = f"""
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq THEN
        RAISE EXCEPTION '{_REFUSAL}: the chain head cannot move back';
    END IF;
    RETURN NEW;
END
$$
"""


def _create_triggers() -> None:
    """Refuse UPDATE and DELETE of entries, their index rows and checkpoints; TRUNCATE too on
    PostgreSQL. The chain head may only move forward and never disappear."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_REFUSE)
        op.execute(_PG_HEAD_FORWARD)
        for table in _APPEND_ONLY:
            op.execute(
                f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} '
                'FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()'
            )
        for table in (*_APPEND_ONLY, 'audit_chain_head'):
            op.execute(
                f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} '
                'FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()'
            )
        op.execute(
            'CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head '
            'FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()'
        )
        op.execute(
            'CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head '
            'FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()'
        )
        return
    for table in _APPEND_ONLY:
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} '
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: {event} on {table} refused'); END"
            )
    op.execute(
        'CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head '
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: DELETE on audit_chain_head refused'); END"
    )
    op.execute(
        'CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head '
        'WHEN NEW.seq < OLD.seq '
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: the chain head cannot move back'); END"
    )


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in _APPEND_ONLY:
            op.execute(f'DROP TRIGGER {table}_append_only ON {table}')
        for table in (*_APPEND_ONLY, 'audit_chain_head'):
            op.execute(f'DROP TRIGGER {table}_no_truncate ON {table}')
        op.execute('DROP TRIGGER audit_chain_head_no_delete ON audit_chain_head')
        op.execute('DROP TRIGGER audit_chain_head_forward_only ON audit_chain_head')
        op.execute('DROP FUNCTION audit_head_forward_only()')
        op.execute('DROP FUNCTION audit_refuse_change()')
        return
    for table in _APPEND_ONLY:
        for event in ('update', 'delete'):
            op.execute(f'DROP TRIGGER {table}_no_{event}')
    op.execute('DROP TRIGGER audit_chain_head_no_delete')
    op.execute('DROP TRIGGER audit_chain_head_forward_only')


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_checkpoints',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('log_id', sa.String(length=200), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_checkpoints'))
    )
    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
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
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action_seq', ['action', 'seq'], unique=False)
        batch_op.create_index('ix_audit_entries_actor_seq', ['actor', 'seq'], unique=False)
        batch_op.create_index('ix_audit_entries_agency_seq', ['agency', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_client_id_seq', ['client_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_entries_outcome_seq', ['outcome', 'seq'], unique=False)

    op.create_table('audit_entry_resources',
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['audit_entries.seq'], name=op.f('fk_audit_entry_resources_seq_audit_entries')),
    sa.PrimaryKeyConstraint('resource_id', 'seq', name=op.f('pk_audit_entry_resources'))
    )
    # The empty log: seq 0, whose "hash" is the 32 zero bytes seq 1 chains after.
    op.execute(f"INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '{'0' * 64}')")
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table('audit_entry_resources')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_outcome_seq')
        batch_op.drop_index('ix_audit_entries_client_id_seq')
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index('ix_audit_entries_agency_seq')
        batch_op.drop_index('ix_audit_entries_actor_seq')
        batch_op.drop_index('ix_audit_entries_action_seq')

    op.drop_table('audit_entries')
    op.drop_table('audit_checkpoints')
    op.drop_table('audit_chain_head')
