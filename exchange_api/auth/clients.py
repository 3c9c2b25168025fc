"""Client authentication at the token, revocation and introspection endpoints.

Two methods, one per request (RFC 6749 §2.3):

- ``private_key_jwt`` (RFC 7523 §2.2): a JWT the client signs with a key of its registered JWKS;
- ``client_secret_basic`` (RFC 6749 §2.3.1): HTTP Basic with a secret, for development; off when
  ``EXCHANGE_ALLOW_CLIENT_SECRETS=false``.

Client-signed JWTs — client assertions and the JWT-bearer grant's assertion alike — are verified by
:func:`verify_client_jwt`: the key is the client's (chosen by ``kid``), the algorithm pinned
(:mod:`exchange_api.auth.jose`), ``iss`` the client, ``aud`` the issuer or the token endpoint,
``exp`` present and at most ``MAX_ASSERTION_LIFETIME`` seconds ahead, and ``jti`` used once — the
database refuses a second use, until the assertion has expired.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from sqlmodel import Session

from exchange_api.auth import repository
from exchange_api.auth.client_secrets import verify_client_secret
from exchange_api.auth.errors import OAuthError
from exchange_api.auth.jose import (
    CLIENT_JWT_REGISTRY,
    InvalidKey,
    import_client_jwks,
    key_for_header,
    peek,
)
from exchange_api.auth.server import OAuthServer
from exchange_api.models.agencies import Client

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "ClientJWT",
    "authenticate_client",
    "verify_client_jwt",
]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 300
#: Clients' clocks are not ours: allow this much skew on exp, nbf and iat.
_LEEWAY_SECONDS = 30
_MAX_ASSERTION_LENGTH = 8192
_JTI = re.compile(r"[\x21-\x7e]{1,256}")


@dataclass(frozen=True, slots=True)
class ClientJWT:
    """A verified client-signed JWT: who signed it, and what it says."""

    client: Client
    claims: dict[str, Any]


ErrorFactory = Callable[[str], OAuthError]


def verify_client_jwt(
    session: Session, server: OAuthServer, token: str, *, refuse: ErrorFactory
) -> ClientJWT:
    """Verify a JWT signed by a registered client; ``refuse`` builds the error for any failure
    (``invalid_client`` for client authentication, ``invalid_grant`` for an authorization grant).
    """
    if len(token) > _MAX_ASSERTION_LENGTH:
        raise refuse("The assertion is too large.")
    try:
        header, unverified = peek(token)
    except (JoseError, ValueError):
        raise refuse("The assertion is not a compact JWS.") from None
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise refuse("The assertion has no issuer.")
    client = repository.get_client(session, issuer)
    if client is None or client.disabled_at is not None or client.jwks is None:
        raise refuse("The assertion's issuer is not a client with registered keys.")
    try:
        key = key_for_header(import_client_jwks(json.loads(client.jwks)), header)
        claims = jwt.decode(token, key, registry=CLIENT_JWT_REGISTRY).claims
    except InvalidKey as exc:
        raise _known(refuse(f"{exc}."), client) from None
    except (JoseError, ValueError, TypeError):
        raise _known(refuse("The assertion's signature is invalid."), client) from None
    _check_claims(server, client, claims, refuse)
    expires_at = datetime.fromtimestamp(claims["exp"] + _LEEWAY_SECONDS, UTC)
    if not repository.claim_client_assertion(
        session, client_id=client.client_id, jti=claims["jti"], expires_at=expires_at
    ):
        raise _known(refuse("The assertion was used before (jti replay)."), client)
    return ClientJWT(client=client, claims=claims)


def _check_claims(
    server: OAuthServer, client: Client, claims: dict[str, Any], refuse: ErrorFactory
) -> None:
    registry = jwt.JWTClaimsRegistry(
        leeway=_LEEWAY_SECONDS,
        iss={"essential": True, "value": client.client_id},
        aud={"essential": True, "values": server.assertion_audiences},
        sub={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise _known(refuse("The assertion has expired."), client) from None
    except ClaimError as exc:
        raise _known(refuse(f"The assertion's {exc.claim} is missing or wrong."), client) from None
    if claims["exp"] > time.time() + MAX_ASSERTION_LIFETIME + _LEEWAY_SECONDS:
        raise _known(
            refuse(f"The assertion's exp is more than {MAX_ASSERTION_LIFETIME} s ahead."), client
        )
    if not _JTI.fullmatch(claims["jti"]):
        raise _known(refuse("The assertion's jti is not usable."), client)


def _known(error: OAuthError, client: Client) -> OAuthError:
    error.client_id = client.client_id
    return error


def _refuse_client(description: str) -> OAuthError:
    return OAuthError.invalid_client(description)


def authenticate_client(
    session: Session,
    server: OAuthServer,
    form: Mapping[str, str],
    authorization: str | None,
) -> Client | None:
    """The client that authenticated this request, or ``None`` if it did not try.

    Trying and failing — or trying two methods at once — raises ``invalid_client`` (401).
    """
    basic = _basic_credentials(authorization)
    assertion_type = form.get("client_assertion_type")
    assertion = form.get("client_assertion")
    tried_assertion = assertion_type is not None or assertion is not None
    if basic is not None and tried_assertion:
        raise OAuthError.invalid_request("Use one client authentication method, not two.")
    if basic is not None:
        return _authenticate_secret(session, server, *basic)
    if not tried_assertion:
        return None
    if assertion_type != CLIENT_ASSERTION_TYPE or not assertion:
        raise OAuthError.invalid_client(
            f"private_key_jwt needs client_assertion_type={CLIENT_ASSERTION_TYPE} "
            "and a client_assertion."
        )
    signed = verify_client_jwt(session, server, assertion, refuse=_refuse_client)
    client = signed.client
    if signed.claims["sub"] != client.client_id:
        raise _known(
            OAuthError.invalid_client("The client assertion's sub must be its iss."), client
        )
    if form.get("client_id", client.client_id) != client.client_id:
        raise _known(OAuthError.invalid_client("client_id is not the assertion's iss."), client)
    return client


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` from an HTTP Basic header; ``None`` if there is none."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError.invalid_client("Malformed HTTP Basic credentials.", basic=True) from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError.invalid_client("Malformed HTTP Basic credentials.", basic=True)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _authenticate_secret(
    session: Session, server: OAuthServer, client_id: str, secret: str
) -> Client:
    if not server.allow_client_secrets:
        raise OAuthError.invalid_client(
            "This server does not accept client secrets: use private_key_jwt.", basic=True
        )
    client = repository.get_client(session, client_id)
    secret_hash = client.secret_hash if client is not None else None
    if not verify_client_secret(secret_hash, secret, server.secret_hasher) or client is None:
        raise OAuthError.invalid_client("Unknown client or wrong secret.", basic=True)
    if client.disabled_at is not None:
        raise _known(OAuthError.invalid_client("The client is disabled.", basic=True), client)
    return client
