"""alert substances by key: name-only substances, the name sent, quantities for statistics

``alert_substances`` was keyed by CAS number. A substance may now be sent by name only, so its
rows are keyed by ``substance_key`` (the CAS number; the catalogue entry's key for a name it
lists; else ``name:`` and the normalised name), carry the normalised ``name`` as sent (for
``substance_name=``) and the alert's quantities of it as kilograms and litres (statistics add them
up in SQL). ``ix_alert_substances_alert_id`` finds an alert's rows (to replace them) and joins
them to statistics without touching ``alerts``' other columns; ``ix_alert_substances_name``
serves ``substance_name=``.

Existing rows keep their CAS number as key, except 41232-97-7, which the catalogue now lists as
another number of ethyl 3-methyl-3-phenylglycidate (77-83-8); their quantities are computed
from the alerts' stored substance lines (the unit factors are frozen here, as of this revision).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KILOGRAMS = {'mg': 1e-6, 'g': 1e-3, 'kg': 1.0, 't': 1e3}
_LITRES = {'ml': 1e-3, 'l': 1.0, 'm3': 1e3}
_RENUMBERED = {'41232-97-7': '77-83-8'}
_BATCH = 1000

_alerts = sa.table('alerts', sa.column('id', sa.Uuid()), sa.column('substances', sa.JSON()))
_rows = sa.table(
    'alert_substances',
    sa.column('substance_key', sa.String()),
    sa.column('alert_id', sa.Uuid()),
    sa.column('quantity_kg', sa.Double()),
    sa.column('quantity_l', sa.Double()),
)


def upgrade() -> None:
    with op.batch_alter_table('alert_substances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('substance_key', sa.String(length=205), nullable=True))
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('quantity_kg', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('quantity_l', sa.Double(), nullable=True))
    for old, new in _RENUMBERED.items():
        # An alert that listed both numbers keeps one row for the substance.
        op.execute(
            sa.text(
                'DELETE FROM alert_substances WHERE cas = :old AND EXISTS ('
                'SELECT 1 FROM alert_substances AS other '
                'WHERE other.alert_id = alert_substances.alert_id AND other.cas = :new)'
            ).bindparams(old=old, new=new)
        )
        op.execute(
            sa.text('UPDATE alert_substances SET cas = :new WHERE cas = :old').bindparams(
                old=old, new=new
            )
        )
    op.execute('UPDATE alert_substances SET substance_key = cas')
    _fill_quantities()
    with op.batch_alter_table('alert_substances', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint('pk_alert_substances', type_='primary')
        batch_op.drop_column('cas')
        batch_op.alter_column('substance_key', existing_type=sa.String(length=205), nullable=False)
        batch_op.create_primary_key('pk_alert_substances', ['substance_key', 'alert_id'])
        batch_op.create_index('ix_alert_substances_name', ['name', 'alert_id'], unique=False)
        batch_op.create_index(
            'ix_alert_substances_alert_id',
            ['alert_id', 'substance_key', 'quantity_kg', 'quantity_l'],
            unique=False,
        )


def _quantities(lines: list[dict[str, Any]]) -> dict[str, tuple[float | None, float | None]]:
    totals: dict[str, tuple[float | None, float | None]] = {}
    for line in lines:
        key = _RENUMBERED.get(line['cas'], line['cas'])
        kg, litres = totals.get(key, (None, None))
        quantity, unit = line.get('quantity'), line.get('unit')
        if quantity is not None and unit in _KILOGRAMS:
            kg = (kg or 0.0) + quantity * _KILOGRAMS[unit]
        if quantity is not None and unit in _LITRES:
            litres = (litres or 0.0) + quantity * _LITRES[unit]
        totals[key] = (kg, litres)
    return totals


def _fill_quantities() -> None:
    connection = op.get_bind()
    update = (
        sa.update(_rows)
        .where(
            _rows.c.substance_key == sa.bindparam('key'),
            _rows.c.alert_id == sa.bindparam('alert'),
        )
        .values(quantity_kg=sa.bindparam('kg'), quantity_l=sa.bindparam('litres'))
    )
    after = None
    while True:
        statement = sa.select(_alerts.c.id, _alerts.c.substances).order_by(_alerts.c.id)
        if after is not None:
            statement = statement.where(_alerts.c.id > after)
        batch = connection.execute(statement.limit(_BATCH)).all()
        if not batch:
            return
        params = [
            {'key': key, 'alert': alert_id, 'kg': kg, 'litres': litres}
            for alert_id, lines in batch
            for key, (kg, litres) in _quantities(lines).items()
            if kg is not None or litres is not None
        ]
        if params:
            connection.execute(update, params)
        after = batch[-1][0]


def downgrade() -> None:
    # Only possible while every substance row has a CAS number (no name-only substance).
    with op.batch_alter_table('alert_substances', schema=None, recreate='auto') as batch_op:
        batch_op.drop_index('ix_alert_substances_alert_id')
        batch_op.drop_index('ix_alert_substances_name')
        batch_op.drop_constraint('pk_alert_substances', type_='primary')
        batch_op.alter_column(
            'substance_key',
            new_column_name='cas',
            existing_type=sa.String(length=205),
            type_=sa.String(length=12),
            nullable=False,
        )
        batch_op.drop_column('quantity_l')
        batch_op.drop_column('quantity_kg')
        batch_op.drop_column('name')
        batch_op.create_primary_key('pk_alert_substances', ['cas', 'alert_id'])
