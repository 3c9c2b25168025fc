"""token state: every change to clients, agencies or revocations is notified (PostgreSQL)

Each worker keeps the token states it has looked up and forgets them when notified on channel
``exchange_token_state`` (``exchange_api/auth/token_states.py``). A trigger, not the code that
makes a change, sends the notification, so no path — the API, the CLI, an operator's SQL — can
change a client, an agency or a revocation without every worker hearing of it. SQLite has no
notifications: there the workers do not keep token states.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = (
    ('clients', 'UPDATE OR DELETE OR TRUNCATE'),
    ('agencies', 'UPDATE OR DELETE OR TRUNCATE'),
    ('revoked_tokens', 'INSERT OR UPDATE'),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION notify_token_state() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('exchange_token_state', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table, events in _TRIGGERS:
        op.execute(
            f'CREATE TRIGGER {table}_notify_token_state AFTER {events} ON {table} '
            'FOR EACH STATEMENT EXECUTE FUNCTION notify_token_state()'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, _events in _TRIGGERS:
        op.execute(f'DROP TRIGGER {table}_notify_token_state ON {table}')
    op.execute('DROP FUNCTION notify_token_state()')
