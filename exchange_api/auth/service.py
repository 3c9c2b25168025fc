"""The authorization server's rules: who gets a token, with which scopes, bound to which key.

Every token request ends in exactly one of two functions — :func:`issue_token` or
:func:`deny_token` — so that what must accompany an issued or refused token (a log line and the
audit record, ``token.issue`` or ``token.deny``) has one place to live. Both records go into the
request's own transaction, which commits in either case.

Grants (RFC 6749 §4.4, RFC 7523 §2.1):

- ``client_credentials``: the client authenticates (``private_key_jwt`` or
  ``client_secret_basic``); the token's ``sub`` is the client itself.
- ``urn:ietf:params:oauth:grant-type:jwt-bearer``: the client asserts the officer acting through
  it, in a JWT signed with its registered key whose ``sub`` is the officer's id; that becomes the
  token's ``sub``. The assertion authenticates the client (RFC 7521 §4.2 makes separate client
  authentication optional); if the request also authenticates a client, it must be the same one.

A scope outside the client's registration is ``invalid_scope``; no ``scope`` means all of them. A
request with a ``DPoP`` proof gets a token bound to the proof's key (``cnf.jkt``, token type
``DPoP``); with ``EXCHANGE_REQUIRE_DPOP=true`` a request without one is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from exchange_api.audit.chain import AuditAction, Outcome
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth import repository
from exchange_api.auth.clients import authenticate_client, verify_client_jwt
from exchange_api.auth.dpop import (
    DPoPProof,
    InvalidDPoPProof,
    single_dpop_header,
    verify_dpop_proof,
)
from exchange_api.auth.errors import OAuthError
from exchange_api.auth.scopes import Scope
from exchange_api.auth.server import OAuthServer
from exchange_api.auth.tokens import AccessTokenClaims, InvalidAccessToken, IssuedAccessToken
from exchange_api.db import UnstorableText
from exchange_api.models.agencies import Client

__all__ = [
    "GRANT_CLIENT_CREDENTIALS",
    "GRANT_JWT_BEARER",
    "ClientRequest",
    "TokenGrant",
    "deny_token",
    "handle_token_request",
    "introspect_token",
    "issue_token",
    "revoke_token",
]

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_GRANT_TYPES = (GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER)
#: An officer id goes into tokens, audit records and logs: printable ASCII, no spaces.
_OFFICER_ID = re.compile(r"[\x21-\x7e]{1,200}")

logger = logging.getLogger("exchange_api.auth")


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """A request to one of the authorization server's endpoints, as the endpoint read it."""

    form: Mapping[str, str]
    form_problem: str | None
    """Why the body could not be read as an OAuth form (wrong type, repeated parameter)."""
    authorization: str | None
    dpop_proofs: list[str]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A token request that passed every check: what the token will say."""

    client: Client
    grant_type: str
    subject: str
    scopes: frozenset[str]
    dpop_key: str | None


def handle_token_request(
    session: Session, server: OAuthServer, request: ClientRequest, audit: AuditRecorder
) -> IssuedAccessToken:
    """Answer ``POST /oauth/token``: a token, or an :class:`OAuthError` seen by ``deny_token``."""
    try:
        with _storable_parameters():
            grant = _validate_token_request(session, server, request)
    except OAuthError as error:
        deny_token(error, grant_type=request.form.get("grant_type"), audit=audit)
        raise
    return issue_token(session, server, grant, audit)


def issue_token(
    session: Session, server: OAuthServer, grant: TokenGrant, audit: AuditRecorder
) -> IssuedAccessToken:
    """Mint the access token for a validated grant. The one place tokens are issued."""
    issued = server.authority.issue(
        subject=grant.subject,
        client_id=grant.client.client_id,
        agency_id=grant.client.agency_id,
        scopes=grant.scopes,
        bound_to=grant.dpop_key,
    )
    # Token requests come every few minutes per client: a good moment to forget what has expired.
    repository.purge_expired(session, datetime.now(UTC))
    logger.info(
        "token issued",
        extra={
            "event": {
                "action": "token.issue",
                "client_id": grant.client.client_id,
                "grant_type": grant.grant_type,
                "token_id": issued.token_id,
                "scope": issued.scope,
                "dpop_bound": issued.bound_to is not None,
            }
        },
    )
    audit.record(
        AuditAction.TOKEN_ISSUE,
        identity=AuditIdentity(
            actor=grant.subject,
            client_id=grant.client.client_id,
            agency=str(grant.client.agency_id),
            token_id=issued.token_id,
        ),
    )
    return issued


def deny_token(error: OAuthError, *, grant_type: str | None, audit: AuditRecorder) -> None:
    """Record a refused token request. The one place refusals go through."""
    logger.info(
        "token refused",
        extra={
            "event": {
                "action": "token.deny",
                "client_id": error.client_id,
                "grant_type": grant_type if grant_type in _GRANT_TYPES else None,
                "error": error.error,
            }
        },
    )
    audit.record(
        AuditAction.TOKEN_DENY,
        outcome=Outcome.DENIED,
        identity=AuditIdentity(client_id=error.client_id),
    )


@contextmanager
def _storable_parameters() -> Iterator[None]:
    """A parameter the database refused as unstorable (a NUL in a client id, in a Basic user
    name, in an assertion's ``iss``...) is a malformed request, answered the OAuth way: nothing
    by that name can exist, and the refusal is recorded like any other."""
    try:
        yield
    except UnstorableText:
        raise OAuthError.invalid_request(
            "A parameter holds a NUL character or an unpaired surrogate."
        ) from None


def _validate_token_request(
    session: Session, server: OAuthServer, request: ClientRequest
) -> TokenGrant:
    if request.form_problem is not None:
        raise OAuthError.invalid_request(request.form_problem)
    grant_type = request.form.get("grant_type")
    if not grant_type:
        raise OAuthError.invalid_request("grant_type is required.")
    if grant_type not in _GRANT_TYPES:
        raise OAuthError("unsupported_grant_type", "Supported: client_credentials and jwt-bearer.")
    proof = _dpop_proof(server, request)
    authenticated = authenticate_client(session, server, request.form, request.authorization)
    if grant_type == GRANT_CLIENT_CREDENTIALS:
        if authenticated is None:
            raise OAuthError.invalid_client("Client authentication is required.")
        client, subject = authenticated, authenticated.client_id
    else:
        client, subject = _officer_grant(session, server, request.form, authenticated)
    scopes = _granted_scopes(request.form.get("scope"), client)
    if proof is not None and not repository.claim_dpop_proof(session, proof):
        raise _for(client, OAuthError.invalid_dpop_proof("The DPoP proof was used before."))
    return TokenGrant(
        client=client,
        grant_type=grant_type,
        subject=subject,
        scopes=scopes,
        dpop_key=proof.key_thumbprint if proof is not None else None,
    )


def _dpop_proof(server: OAuthServer, request: ClientRequest) -> DPoPProof | None:
    try:
        value = single_dpop_header(request.dpop_proofs)
        if value is None:
            if server.require_dpop:
                raise InvalidDPoPProof("This server issues DPoP-bound tokens only: send a proof.")
            return None
        return verify_dpop_proof(value, method="POST", url=server.token_endpoint)
    except InvalidDPoPProof as exc:
        raise OAuthError.invalid_dpop_proof(str(exc)) from None


def _officer_grant(
    session: Session,
    server: OAuthServer,
    form: Mapping[str, str],
    authenticated: Client | None,
) -> tuple[Client, str]:
    assertion = form.get("assertion")
    if not assertion:
        raise OAuthError.invalid_request("The jwt-bearer grant needs an assertion.")
    signed = verify_client_jwt(session, server, assertion, refuse=OAuthError.invalid_grant)
    if authenticated is not None and authenticated.client_id != signed.client.client_id:
        raise _for(
            authenticated,
            OAuthError.invalid_grant("The assertion was issued by another client."),
        )
    officer = signed.claims["sub"]
    if not isinstance(officer, str) or not _OFFICER_ID.fullmatch(officer):
        raise _for(
            signed.client,
            OAuthError.invalid_grant(
                "The assertion's sub must be an officer id (printable, ≤ 200)."
            ),
        )
    return signed.client, officer


def _granted_scopes(requested: str | None, client: Client) -> frozenset[str]:
    registered = frozenset(client.scopes.split())
    if requested is None or not requested.strip():
        return registered
    asked = frozenset(requested.split())
    if not asked <= registered:
        raise _for(
            client, OAuthError.invalid_scope("A requested scope is not registered for this client.")
        )
    return asked


def _for(client: Client, error: OAuthError) -> OAuthError:
    error.client_id = client.client_id
    return error


def _authenticated(session: Session, server: OAuthServer, request: ClientRequest) -> Client:
    if request.form_problem is not None:
        raise OAuthError.invalid_request(request.form_problem)
    with _storable_parameters():
        client = authenticate_client(session, server, request.form, request.authorization)
    if client is None:
        raise OAuthError.invalid_client("Client authentication is required.")
    return client


def _token_of(server: OAuthServer, request: ClientRequest) -> AccessTokenClaims | None:
    token = request.form.get("token")
    if not token:
        raise OAuthError.invalid_request("token is required.")
    try:
        return server.authority.verify(token)
    except InvalidAccessToken:
        return None


def revoke_token(
    session: Session, server: OAuthServer, request: ClientRequest, audit: AuditRecorder
) -> None:
    """RFC 7009: the client revokes one of its own access tokens until it expires.

    A token that is invalid, expired or unknown needs no revoking: that is a success too (§2.2).
    """
    client = _authenticated(session, server, request)
    claims = _token_of(server, request)
    if claims is None:
        return
    if claims.client_id != client.client_id:
        raise _for(
            client,
            OAuthError("unauthorized_client", "The token was not issued to this client."),
        )
    repository.revoke_token(
        session,
        token_id=claims.token_id,
        client_id=claims.client_id,
        expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
    )
    audit.record(
        AuditAction.TOKEN_REVOKE,
        resource_ids=[claims.token_id],
        identity=AuditIdentity(
            actor=claims.subject, client_id=client.client_id, agency=str(client.agency_id)
        ),
    )


def introspect_token(
    session: Session, server: OAuthServer, request: ClientRequest, audit: AuditRecorder
) -> dict[str, Any]:
    """RFC 7662: is this token active, and what does it say?

    Only authenticated clients may ask, and each only about its own tokens — except clients
    holding ``network:admin`` (the network operator's), which may ask about any. Any other answer is
    ``{"active": false}``, which says nothing about whether the token exists (§2.2).

    Every question from an authenticated client is audited (``token.introspect``, as that
    client, naming the token's ``jti`` when it is one of ours; ``result_count`` 1 when the
    answer told something): what a token says is who acts, so who asked is worth knowing.
    """
    client = _authenticated(session, server, request)
    claims = _token_of(server, request)
    answer = _introspection(session, server, client, claims)
    audit.record(
        AuditAction.TOKEN_INTROSPECT,
        resource_ids=[claims.token_id] if claims is not None else [],
        result_count=1 if answer["active"] else 0,
        identity=AuditIdentity(client_id=client.client_id, agency=str(client.agency_id)),
    )
    return answer


def _introspection(
    session: Session, server: OAuthServer, client: Client, claims: AccessTokenClaims | None
) -> dict[str, Any]:
    inactive: dict[str, Any] = {"active": False}
    if claims is None:
        return inactive
    if claims.client_id != client.client_id and Scope.NETWORK_ADMIN not in client.scopes.split():
        return inactive
    state = repository.token_state(session, client_id=claims.client_id, token_id=claims.token_id)
    if state is None or state.inactive_reason(claims.agency_id, claims.issued_at) is not None:
        return inactive
    answer: dict[str, Any] = {
        "active": True,
        "iss": server.issuer,
        "aud": server.issuer,
        "sub": claims.subject,
        "client_id": claims.client_id,
        "agency": str(claims.agency_id),
        "scope": claims.scope,
        "jti": claims.token_id,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "token_type": "DPoP" if claims.bound_to else "Bearer",
    }
    if claims.bound_to is not None:
        answer["cnf"] = {"jkt": claims.bound_to}
    return answer
