"""Tokens and DPoP proofs, without I/O: what to send to ``/oauth/token`` and how to sign a call.

- **Client authentication** is ``private_key_jwt`` (RFC 7523 §2.2): a short-lived JWT signed by
  the client's key, a new ``jti`` each time (the server refuses a replayed assertion).
- **Officers**: with ``officer`` set, the token request is the RFC 7523 §2.1 jwt-bearer grant whose
  assertion's ``sub`` is the officer; the token's ``sub`` is then the officer and every audit
  entry names them.
- **DPoP** (RFC 9449), on unless turned off: the token request and every call carry a proof
  signed by a key the client holds (a fresh P-256 key per client unless one is given), so a
  stolen token is useless alone. A ``DPoP-Nonce`` the server hands out is put in later proofs.
- **Renewal**: a token is replaced ``renew_margin`` before it expires (at most half its life
  early), so a call never leaves with a token about to lapse.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt

from exchange_client.keys import SigningKey

__all__ = ["ASSERTION_TYPE", "JWT_BEARER", "Credentials", "DPoPSigner", "Token", "htu_of"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_ASSERTION_LIFETIME = 60


def _b64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _sign(key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": key.alg, **header}, claims, key.key, algorithms=[key.alg])


def htu_of(url: str) -> str:
    """A request URL as a proof's ``htu``: without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who asks: the client, its key, and optionally the officer it acts for."""

    client_id: str
    key: SigningKey
    officer: str | None = None
    scopes: str | None = None

    def token_form(self, token_url: str) -> dict[str, str]:
        """The form of one token request (a new assertion each time: they are single-use)."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.officer or self.client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + _ASSERTION_LIFETIME,
            "jti": str(uuid.uuid4()),
        }
        assertion = _sign(self.key, {"kid": self.key.kid}, claims)
        form = (
            {"grant_type": JWT_BEARER, "assertion": assertion}
            if self.officer is not None
            else {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            }
        )
        if self.scopes:
            form["scope"] = self.scopes
        return form


@dataclass(slots=True)
class DPoPSigner:
    """Signs DPoP proofs with one key, remembering the last nonce each server origin gave."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    nonces: dict[str, str] = field(default_factory=dict)

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": htu_of(url),
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = _b64url_sha256(access_token)
        nonce = self.nonces.get(_origin(url))
        if nonce is not None:
            claims["nonce"] = nonce
        return _sign(self.key, {"typ": "dpop+jwt", "jwk": self.key.public_jwk}, claims)

    def remember_nonce(self, url: str, nonce: str | None) -> bool:
        """Keep a ``DPoP-Nonce`` answer header; True if it is new (worth a retry)."""
        if not nonce or self.nonces.get(_origin(url)) == nonce:
            return False
        self.nonces[_origin(url)] = nonce
        return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and when to stop using it (by the monotonic clock)."""

    value: str
    token_type: str
    renew_at: float

    @classmethod
    def from_answer(cls, answer: dict[str, Any], renew_margin: float) -> Token:
        lifetime = float(answer.get("expires_in", 60))
        margin = min(renew_margin, lifetime / 2)
        return cls(
            value=str(answer["access_token"]),
            token_type=str(answer.get("token_type", "Bearer")),
            renew_at=time.monotonic() + lifetime - margin,
        )

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self.renew_at

    def authorization(self) -> str:
        return f"{self.token_type} {self.value}"
