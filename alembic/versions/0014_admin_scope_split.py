"""admin scope split: the stored scope ``admin`` becomes ``clients:admin``

``admin`` was global and held by agencies' own clients. It is split into ``clients:admin`` (the
clients of the holder's own agency) and ``network:admin`` (the network operator, granted at the
command line only). No stored client can be proven to be the operator's, so every ``admin``
becomes the narrower ``clients:admin``; the operator then registers its own client with
``exchange-api clients add --scopes "network:admin clients:admin" ...`` (docs/security.md).
The downgrade maps both back to ``admin``.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_clients = sa.table('clients', sa.column('client_id', sa.String), sa.column('scopes', sa.String))


def _rewrite(renames: dict[str, str]) -> None:
    connection = op.get_bind()
    for client_id, scopes in connection.execute(sa.select(_clients.c.client_id, _clients.c.scopes)):
        old = scopes.split()
        new = sorted({renames.get(scope, scope) for scope in old})
        if new != sorted(old):
            connection.execute(
                _clients.update()
                .where(_clients.c.client_id == client_id)
                .values(scopes=' '.join(new))
            )


def upgrade() -> None:
    _rewrite({'admin': 'clients:admin'})


def downgrade() -> None:
    _rewrite({'clients:admin': 'admin', 'network:admin': 'admin'})
