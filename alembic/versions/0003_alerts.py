"""alerts: routing facts, sealed field groups, search and visibility indexes, history,
idempotency keys

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reporting_agency_id', sa.Uuid(), nullable=False),
    sa.Column('incident_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('detected_on', sa.Date(), nullable=False),
    sa.Column('review_by', sa.Date(), nullable=False),
    sa.Column('distribution_scope', sa.String(length=16), nullable=False),
    sa.Column('substances', sa.JSON(), nullable=False),
    sa.Column('route', sa.JSON(), nullable=False),
    sa.Column('handling', sa.JSON(), nullable=False),
    sa.Column('distribution', sa.JSON(), nullable=False),
    sa.Column('kek_version', sa.Integer(), nullable=False),
    sa.Column('wrapped_dek', sa.LargeBinary(), nullable=False),
    sa.Column('dek_version', sa.Integer(), nullable=False),
    sa.Column('sealed_parties', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_documents', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_persons', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_narrative', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_reference', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_contact', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reporting_agency_id'], ['agencies.id'], name=op.f('fk_alerts_reporting_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_reporting_agency_id_id', ['reporting_agency_id', 'id'], unique=False)

    op.create_table('alert_audience',
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('audience', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_audience_alert_id_alerts')),
    sa.PrimaryKeyConstraint('alert_id', 'audience', name=op.f('pk_alert_audience'))
    )
    op.create_table('alert_countries',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('is_origin', sa.Boolean(), nullable=False),
    sa.Column('is_transit', sa.Boolean(), nullable=False),
    sa.Column('is_destination', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_countries_alert_id_alerts')),
    sa.PrimaryKeyConstraint('country', 'alert_id', name=op.f('pk_alert_countries'))
    )
    op.create_table('alert_substances',
    sa.Column('cas', sa.String(length=12), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_substances_alert_id_alerts')),
    sa.PrimaryKeyConstraint('cas', 'alert_id', name=op.f('pk_alert_substances'))
    )
    op.create_table('alert_tags',
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_tags_alert_id_alerts')),
    sa.PrimaryKeyConstraint('field', 'tag', 'alert_id', name=op.f('pk_alert_tags'))
    )
    with op.batch_alter_table('alert_tags', schema=None) as batch_op:
        batch_op.create_index('ix_alert_tags_alert_id', ['alert_id'], unique=False)

    op.create_table('alert_versions',
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_versions_alert_id_alerts')),
    sa.PrimaryKeyConstraint('alert_id', 'version', name=op.f('pk_alert_versions'))
    )
    op.create_table('idempotency_keys',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_idempotency_keys_alert_id_alerts')),
    sa.PrimaryKeyConstraint('client_id', 'key', name=op.f('pk_idempotency_keys'))
    )


def downgrade() -> None:
    op.drop_table('idempotency_keys')
    op.drop_table('alert_versions')
    with op.batch_alter_table('alert_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_tags_alert_id')

    op.drop_table('alert_tags')
    op.drop_table('alert_substances')
    op.drop_table('alert_countries')
    op.drop_table('alert_audience')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_reporting_agency_id_id')

    op.drop_table('alerts')
