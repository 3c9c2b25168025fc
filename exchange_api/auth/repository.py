"""The authorization server's queries: clients, single-use identifiers, revocations.

"Seen before?" is answered by the insert itself (``INSERT … ON CONFLICT DO NOTHING RETURNING`` on
a primary key), never by a read followed by a write, so two workers presenting the same
assertion or proof at the same instant cannot both succeed: on PostgreSQL the second insert waits
for the first transaction and then finds the key taken; SQLite serialises writers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnClause, bindparam, delete, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel, col

from exchange_api.auth.dpop import DPoPProof
from exchange_api.auth.jose import sha256_hex
from exchange_api.models.agencies import Agency, AgencyKind, Client
from exchange_api.models.oauth import RevokedToken, SeenDPoPProof, UsedClientAssertion

__all__ = [
    "TokenState",
    "claim_client_assertion",
    "claim_dpop_proof",
    "claim_dpop_proof_at_once",
    "get_client",
    "purge_expired",
    "revoke_token",
    "token_state",
]


def _insert_once(session: Session, model: type[SQLModel], values: dict[str, object]) -> bool:
    """Insert a row unless its primary key exists; True if this call inserted it.

    ``RETURNING`` says whether a row went in (drivers' row counts for INSERT are not reliable).
    """
    connection = session.connection()
    marker: ColumnClause[Any] = literal_column("1")
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(model).values(values).on_conflict_do_nothing()
        result = connection.execute(statement.returning(marker))
    else:
        statement_sqlite = sqlite.insert(model).values(values).on_conflict_do_nothing()
        result = connection.execute(statement_sqlite.returning(marker))
    return result.first() is not None


def claim_client_assertion(
    session: Session, *, client_id: str, jti: str, expires_at: datetime
) -> bool:
    """Record a client-signed JWT's ``jti``; False if the client already used it."""
    return _insert_once(
        session,
        UsedClientAssertion,
        {"client_id": client_id, "jti_digest": sha256_hex(jti), "expires_at": expires_at},
    )


def claim_dpop_proof(session: Session, proof: DPoPProof) -> bool:
    """Record a DPoP proof; False if it was presented before."""
    return _insert_once(
        session,
        SeenDPoPProof,
        {"proof_digest": proof.replay_digest, "expires_at": proof.replay_expires_at},
    )


def claim_dpop_proof_at_once(session_factory: sessionmaker[Session], proof: DPoPProof) -> bool:
    """:func:`claim_dpop_proof` in a transaction of its own, committed before this returns, so the
    proof stays spent whatever becomes of the request that carried it.

    On PostgreSQL this commit does not wait for its WAL to reach the disk
    (``synchronous_commit = off``, for this transaction only): other workers see the row at once,
    and only a crash of the database server within a fraction of a second could forget it —
    reopening a replay window shorter than the proof's own 60 s life. It saves an fsync on every
    DPoP request.
    """
    with session_factory.begin() as session:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        return claim_dpop_proof(session, proof)


def revoke_token(session: Session, *, token_id: str, client_id: str, expires_at: datetime) -> None:
    """Mark an access token revoked until it expires (revoking twice changes nothing)."""
    _insert_once(
        session,
        RevokedToken,
        {"jti": token_id, "client_id": client_id, "expires_at": expires_at},
    )


def get_client(session: Session, client_id: str) -> Client | None:
    return session.get(Client, client_id)


@dataclass(frozen=True, slots=True)
class TokenState:
    """What the database says about a token's client and the token itself, right now."""

    agency_id: uuid.UUID
    agency_kind: AgencyKind
    client_disabled: bool
    revoked: bool
    tokens_valid_after: int | None
    """Unix second of the client's last disable, once it is enabled again (None before)."""

    def inactive_reason(self, token_agency_id: uuid.UUID, issued_at: int) -> str | None:
        """Why a token of this client, naming ``token_agency_id`` and issued at ``issued_at``
        (its ``iat``), is no longer good; or None.

        ``iat`` has whole seconds, so a token issued in the second of the disable is refused
        too: fail closed (a client enabled within that second asks again a second later)."""
        if self.client_disabled:
            return "The client of this access token is disabled."
        if self.tokens_valid_after is not None and issued_at <= self.tokens_valid_after:
            return "The access token was issued before its client was disabled."
        if self.revoked:
            return "The access token has been revoked."
        if self.agency_id != token_agency_id:
            return "The access token's agency is not its client's."
        return None


# Built once: the statement's shape never changes, so only its parameters are bound per request.
_TOKEN_STATE = (
    select(  # SQLAlchemy's: sqlmodel's takes at most four columns
        col(Client.agency_id),
        col(Client.disabled_at),
        col(Client.tokens_valid_after),
        col(Agency.kind),
        col(RevokedToken.jti),
    )
    .join(Agency, col(Agency.id) == col(Client.agency_id))
    .outerjoin(RevokedToken, col(RevokedToken.jti) == bindparam("token_id"))
    .where(col(Client.client_id) == bindparam("client_id"))
)


def token_state(session: Session, *, client_id: str, token_id: str) -> TokenState | None:
    """One round trip on primary keys: the client (disabled? enabled again since when?), its
    agency's kind, and whether the token was revoked. ``None`` if the client no longer exists."""
    params = {"client_id": client_id, "token_id": token_id}
    # On the connection: columns only, so the ORM's execution path would add nothing but cost.
    row = session.connection().execute(_TOKEN_STATE, params).one_or_none()
    if row is None:
        return None
    agency_id, disabled_at, valid_after, kind, revoked_jti = row
    return TokenState(
        agency_id=agency_id,
        agency_kind=AgencyKind(kind),
        client_disabled=disabled_at is not None,
        revoked=revoked_jti is not None,
        tokens_valid_after=int(valid_after.timestamp()) if valid_after is not None else None,
    )


def purge_expired(session: Session, now: datetime) -> None:
    """Forget single-use identifiers and revocations that can no longer matter."""
    for model in (UsedClientAssertion, SeenDPoPProof, RevokedToken):
        session.connection().execute(delete(model).where(col(model.expires_at) < now))
