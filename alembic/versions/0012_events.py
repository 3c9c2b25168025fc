"""events: the outbox and the sequenced feed, watch lists, webhook deliveries

``event_intake`` takes each event in the transaction of the change that causes it; the
sequencer moves it to ``events`` under the next ``seq`` of the single ``event_head`` row, which
also remembers the newest seq purged (older cursors are expired). ``subscription_criteria``
indexes watch lists by criterion value, ``event_matches`` keeps which lists each event matched,
``webhook_deliveries`` is the webhook queue and log (``ix_webhook_deliveries_due`` holds only
what is still to send).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('purged_through', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_event_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_head'))
    )
    op.create_table('event_intake',
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('followup_id', sa.Uuid(), nullable=True),
    sa.Column('request_id', sa.Uuid(), nullable=True),
    sa.Column('only_agency_a', sa.Uuid(), nullable=True),
    sa.Column('only_agency_b', sa.Uuid(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_intake'))
    )
    op.create_table('event_matches',
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('subscription_id', 'seq', name=op.f('pk_event_matches'))
    )
    with op.batch_alter_table('event_matches', schema=None) as batch_op:
        batch_op.create_index('ix_event_matches_seq', ['seq'], unique=False)

    op.create_table('events',
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('followup_id', sa.Uuid(), nullable=True),
    sa.Column('request_id', sa.Uuid(), nullable=True),
    sa.Column('only_agency_a', sa.Uuid(), nullable=True),
    sa.Column('only_agency_b', sa.Uuid(), nullable=True),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_at', ['at'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subscription_id', 'seq', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    op.create_table('subscriptions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('filter', sa.JSON(), nullable=False),
    sa.Column('criteria_kinds', sa.Integer(), nullable=False),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('secret_kek_version', sa.Integer(), nullable=True),
    sa.Column('sealed_secret', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_subscriptions_agency_id_agencies')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_subscriptions_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_client_id_id', ['client_id', 'id'], unique=False)

    op.create_table('subscription_criteria',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=100), nullable=False),
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_criteria_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('kind', 'value', 'subscription_id', name=op.f('pk_subscription_criteria'))
    )
    with op.batch_alter_table('subscription_criteria', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_criteria_subscription_id', ['subscription_id'], unique=False)

    op.execute('INSERT INTO event_head (id, seq, purged_through) VALUES (1, 0, 0)')


def downgrade() -> None:
    with op.batch_alter_table('subscription_criteria', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_criteria_subscription_id')

    op.drop_table('subscription_criteria')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_client_id_id')

    op.drop_table('subscriptions')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_due', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_at')

    op.drop_table('events')
    with op.batch_alter_table('event_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_event_matches_seq')

    op.drop_table('event_matches')
    op.drop_table('event_intake')
    op.drop_table('event_head')
