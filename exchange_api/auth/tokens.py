"""Access tokens: JWTs per RFC 9068, signed and verified here and nowhere else.

A token is ``{"typ": "at+jwt", "alg": "ES256", "kid": <RFC 7638 thumbprint>}`` over the claims
``iss``, ``sub``, ``aud`` (= the issuer), ``client_id``, ``agency``, ``scope``, ``jti``, ``iat``,
``exp`` and, when sender-constrained by DPoP, ``cnf.jkt``.

Verification runs on every API request, so the keys are imported once, the claims registry is built
once, and nothing here touches the database: revocation and the client's state are checked by the
caller dependency in one indexed lookup. What is refused, and why:

- any algorithm but ES256 (the registry knows no other: ``none``, HS256 keyed with our public key);
- a ``typ`` other than ``at+jwt`` — including none at all (RFC 9068 §4; Authlib would let it pass),
  so that an ID token, a client assertion or a DPoP proof signed by some key of ours can never pass
  for an access token;
- a ``kid`` that is not one of our published keys', a wrong ``iss`` or ``aud``, an expired token,
  one issued in the future or not yet valid (small clock leeway), or one missing any claim listed
  above.

The keys come from :class:`~exchange_api.crypto.signing_keys.TokenSigningKeys`: the newest version
signs; every version still published verifies, so tokens stay valid across a rotation
(``keys rotate --signing``) on every worker, and the JWKS lists exactly those versions.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, GuestProtocol
from uuid_utils.compat import uuid7

from exchange_api.auth.jose import ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_REGISTRY
from exchange_api.crypto.signing_keys import LOOK_AGAIN_AFTER, TokenSigningKeys

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "AccessTokenAuthority",
    "AccessTokenClaims",
    "InvalidAccessToken",
    "IssuedAccessToken",
    "signing_key_overlap",
]

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type)
_ACCEPTED_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: Tokens are ours: only our own servers' clocks can disagree, and NTP keeps that small.
_LEEWAY_SECONDS = 5
_VERIFIED_CACHE_SIZE = 4096
#: An unknown ``kid`` makes a worker look for new key files at most this often.
_LOOK_FOR_UNKNOWN_KID_AFTER = 1.0


def signing_key_overlap(lifetime: int) -> float:
    """How long a replaced signing key stays published: until no token it signed can be valid
    — the lifetime, the clock leeway, and the time workers take to notice the new version."""
    return lifetime + _LEEWAY_SECONDS + LOOK_AGAIN_AFTER


class InvalidAccessToken(Exception):
    """The token cannot be accepted. ``str()`` is a fixed description safe to send back."""


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    token_id: str
    scope: str
    expires_in: int
    expires_at: int
    bound_to: str | None


@dataclass(frozen=True, slots=True)
class AccessTokenClaims:
    """What a verified access token says."""

    subject: str
    client_id: str
    agency_id: uuid.UUID
    scopes: frozenset[str]
    token_id: str
    issued_at: int
    expires_at: int
    bound_to: str | None
    """The DPoP key thumbprint (``cnf.jkt``) the token is bound to, if any."""

    @property
    def scope(self) -> str:
        return " ".join(sorted(self.scopes))


class AccessTokenAuthority:
    """Issues and verifies the access tokens of one issuer with its ES256 signing keys."""

    def __init__(self, keys: TokenSigningKeys, *, issuer: str, lifetime: int) -> None:
        self._keys = keys
        self._jwks_by_version: dict[int, tuple[ECKey, ECKey, str]] = {}
        self.issuer = issuer
        self.lifetime = lifetime
        self._claims = jwt.JWTClaimsRegistry(
            leeway=_LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": issuer},
            sub={"essential": True},
            client_id={"essential": True},
            agency={"essential": True},
            scope={"essential": True},
            jti={"essential": True},
            iat={"essential": True},
            exp={"essential": True},
        )
        # Per instance, so that the cache goes with the keys it checked against.
        self._signed_claims = functools.lru_cache(maxsize=_VERIFIED_CACHE_SIZE)(
            self._check_signature
        )

    def _jose_keys(self, version: int, key: ec.EllipticCurvePrivateKey) -> tuple[ECKey, ECKey, str]:
        """The (private, public) joserfc keys of a version and its ``kid`` (the public key's
        RFC 7638 thumbprint), made once: every verification looks the ``kid`` up."""
        keys = self._jwks_by_version.get(version)
        if keys is None:
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            private = ECKey.import_key(pem)
            public = ECKey.import_key(private.as_dict(private=False))
            keys = (private, public, public.thumbprint())
            self._jwks_by_version[version] = keys
        return keys

    def _published(self) -> dict[str, ECKey]:
        """The public keys that verify tokens now, by ``kid``."""
        published = {}
        for version in self._keys.published():
            _private, public, kid = self._jose_keys(version.version, version.key)
            published[kid] = public
        return published

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys that verify our access tokens (``/.well-known/jwks.json``): the
        signing key's, and a replaced one's while tokens it signed may be valid."""
        return {
            "keys": [
                {
                    **public.as_dict(private=False),
                    "kid": kid,
                    "use": "sig",
                    "alg": ACCESS_TOKEN_ALGORITHM,
                }
                for kid, public in self._published().items()
            ]
        }

    def issue(
        self,
        *,
        subject: str,
        client_id: str,
        agency_id: uuid.UUID,
        scopes: Iterable[str],
        bound_to: str | None = None,
    ) -> IssuedAccessToken:
        """Sign a new access token; ``bound_to`` is the DPoP key thumbprint for ``cnf.jkt``."""
        now = int(time.time())
        token_id = str(uuid7())
        scope = " ".join(sorted(set(scopes)))
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.issuer,
            "client_id": client_id,
            "agency": str(agency_id),
            "scope": scope,
            "jti": token_id,
            "iat": now,
            "exp": now + self.lifetime,
        }
        if bound_to is not None:
            claims["cnf"] = {"jkt": bound_to}
        signing = self._keys.signing
        private, _public, kid = self._jose_keys(signing.version, signing.key)
        header = {
            "typ": ACCESS_TOKEN_TYPE,
            "alg": ACCESS_TOKEN_ALGORITHM,
            "kid": kid,
        }
        token = jwt.encode(header, claims, private, registry=ACCESS_TOKEN_REGISTRY)
        return IssuedAccessToken(
            token=token,
            token_id=token_id,
            scope=scope,
            expires_in=self.lifetime,
            expires_at=now + self.lifetime,
            bound_to=bound_to,
        )

    def verify(self, token: str) -> AccessTokenClaims:
        """Verify signature, header and claims; raise :class:`InvalidAccessToken` otherwise.

        The signature and header check of a token that passed it is remembered (the last
        4,096 tokens, keyed by the whole token): a client's next request with the same token
        skips the ECDSA verification. The claims — expiry included — and whether its key is
        still published are checked every time, and a token that failed is checked again every
        time it comes back."""
        kid, claims = self._signed_claims(token)
        if kid not in self._published():
            raise InvalidAccessToken("The access token was not signed by a current key.")
        try:
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise InvalidAccessToken("The access token has expired.") from None
        except JoseError:
            raise InvalidAccessToken("The access token's claims are not acceptable.") from None
        return _read_claims(claims)

    def _verifying_key(self, signature: GuestProtocol) -> ECKey:
        """The published key named by the token's ``kid``. An unknown ``kid`` may be a version
        another worker switched to: look for new key files (not more than once a second)."""
        kid = signature.headers().get("kid")
        published = self._published()
        if kid not in published:
            self._keys.look_again(unless_within=_LOOK_FOR_UNKNOWN_KID_AFTER)
            published = self._published()
        if not isinstance(kid, str) or kid not in published:
            raise _UnknownKey
        return published[kid]

    def _check_signature(self, token: str) -> tuple[str, dict[str, Any]]:
        try:
            decoded = jwt.decode(token, self._verifying_key, registry=ACCESS_TOKEN_REGISTRY)
        except _UnknownKey:
            raise InvalidAccessToken("The access token was not signed by a current key.") from None
        except (JoseError, ValueError, TypeError):
            raise InvalidAccessToken(
                "The access token is malformed or its signature is invalid."
            ) from None
        typ = decoded.header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES:
            raise InvalidAccessToken("The token is not an access token (typ must be at+jwt).")
        return str(decoded.header["kid"]), decoded.claims


class _UnknownKey(Exception):
    """The token names no key of ours that is published now."""


def _read_claims(claims: dict[str, Any]) -> AccessTokenClaims:
    subject, client_id, agency, scope, token_id = (
        claims["sub"],
        claims["client_id"],
        claims["agency"],
        claims["scope"],
        claims["jti"],
    )
    if not all(isinstance(v, str) for v in (subject, client_id, agency, scope, token_id)):
        raise InvalidAccessToken("The access token's claims are not acceptable.")
    try:
        agency_id = uuid.UUID(agency)
    except ValueError:
        raise InvalidAccessToken("The access token's claims are not acceptable.") from None
    bound_to: str | None = None
    if "cnf" in claims:
        confirmation = claims["cnf"]
        if not isinstance(confirmation, dict) or not isinstance(confirmation.get("jkt"), str):
            raise InvalidAccessToken("The access token's confirmation claim is malformed.")
        bound_to = confirmation["jkt"]
    return AccessTokenClaims(
        subject=subject,
        client_id=client_id,
        agency_id=agency_id,
        scopes=frozenset(scope.split()),
        token_id=token_id,
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        bound_to=bound_to,
    )
