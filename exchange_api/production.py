"""The production profile's start-up check against the database: no demo client may exist.

:class:`~exchange_api.config.Settings` refuses every other unsafe setting when it is built
(``EXCHANGE_ENV=production``); whether ``exchange-api init --demo`` ever ran on this database
can only be seen in it. ``create_app`` and ``exchange-api serve`` both ask, so neither a worker
nor the command starts a production service that answers to the demo clients' published keys.
"""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from exchange_api.demo import demo_client_id
from exchange_api.models.agencies import AgencyKind, Client

__all__ = ["UnsafeForProduction", "refuse_demo_clients"]


class UnsafeForProduction(Exception):
    """The database holds what production must not have; the message is one line."""


def refuse_demo_clients(session_factory: sessionmaker[Session]) -> None:
    """Raise :class:`UnsafeForProduction` if a demo client is registered."""
    names = [demo_client_id(kind) for kind in AgencyKind]
    with session_factory() as session:
        found = session.exec(select(Client.client_id).where(col(Client.client_id).in_(names)))
        demo = sorted(found)
    if demo:
        raise UnsafeForProduction(
            f"demo clients are registered ({', '.join(demo)}): this database was seeded with "
            "`init --demo` and cannot serve in production"
        )
