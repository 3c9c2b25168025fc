"""DPoP proofs (RFC 9449), verified on joserfc: Authlib has no DPoP.

A proof is a JWT the client signs, for each request, with a key it keeps: the access token names
that key (``cnf.jkt``), so a stolen token is useless without the key. The checks of RFC 9449 §4.3,
in order — every failure is ``invalid_dpop_proof``:

1. exactly one ``DPoP`` header (the caller of :func:`single_dpop_header` checks);
2. a compact JWS with ``typ: dpop+jwt``, an allowed algorithm (ES256, PS256, Ed25519/EdDSA: see
   :mod:`exchange_api.auth.jose`), and a ``jwk`` header holding a *public* key;
3. the signature verifies with that key;
4. ``htm`` is the request method and ``htu`` the request URL without query and fragment, compared
   after case and default-port normalisation; the expected URL is built from the configured
   issuer, never from the ``Host`` header;
5. ``iat`` within ``PROOF_WINDOW_SECONDS`` of now, either way;
6. on resource requests, ``ath`` is the hash of the access token presented with it;
7. ``jti`` never seen before: the caller records :attr:`DPoPProof.replay_digest` in the database
   (a primary key, so it holds across workers) until :attr:`DPoPProof.replay_expires_at`.

Server nonces (``DPoP-Nonce``) are not used.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError

from exchange_api.auth.jose import (
    CLIENT_SIGNING_ALGORITHMS,
    DPOP_PROOF_REGISTRY,
    InvalidKey,
    b64url_sha256,
    import_public_jwk,
    peek,
    sha256_hex,
)

__all__ = [
    "DPOP_PROOF_TYPE",
    "PROOF_WINDOW_SECONDS",
    "DPoPProof",
    "InvalidDPoPProof",
    "canonical_url",
    "single_dpop_header",
    "verify_dpop_proof",
]

DPOP_PROOF_TYPE = "dpop+jwt"
PROOF_WINDOW_SECONDS = 60
_MAX_PROOF_LENGTH = 8192
_MAX_JTI_LENGTH = 256
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidDPoPProof(Exception):
    """The proof cannot be accepted. ``str()`` is a fixed description safe to send back."""


@dataclass(frozen=True, slots=True)
class DPoPProof:
    key_thumbprint: str
    """RFC 7638 thumbprint of the proof's key: the ``jkt`` a bound token must name."""
    jti: str
    issued_at: int

    @property
    def replay_digest(self) -> str:
        """What the replay cache stores: the ``jti`` is unique per key."""
        return sha256_hex(self.key_thumbprint, self.jti)

    @property
    def replay_expires_at(self) -> datetime:
        """After this, the proof is refused as stale anyway: its cache entry can go."""
        return datetime.fromtimestamp(self.issued_at + PROOF_WINDOW_SECONDS + 1, UTC)


def single_dpop_header(values: list[str]) -> str | None:
    """The request's one DPoP proof, ``None`` if it has none; two or more are refused."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDPoPProof("More than one DPoP header.")
    return values[0]


def canonical_url(url: str) -> str | None:
    """Scheme, host, port and path of an absolute http(s) URL, normalised; ``None`` if it is not
    one. Query and fragment are dropped, as RFC 9449 §4.3 says."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def verify_dpop_proof(
    proof: str,
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    now: float | None = None,
) -> DPoPProof:
    """Check a proof for a request of ``method`` to ``url`` (see the module docstring).

    ``access_token`` is the token sent with a resource request (its hash must be the proof's
    ``ath``); ``None`` at the token endpoint.
    """
    if len(proof) > _MAX_PROOF_LENGTH:
        raise InvalidDPoPProof("The DPoP proof is too large.")
    try:
        header, _unverified = peek(proof, DPOP_PROOF_REGISTRY)
    except (JoseError, ValueError):
        raise InvalidDPoPProof("The DPoP proof is not a compact JWS.") from None
    if header.get("typ") != DPOP_PROOF_TYPE:
        raise InvalidDPoPProof("The DPoP proof's typ must be dpop+jwt.")
    if header.get("alg") not in CLIENT_SIGNING_ALGORITHMS:
        raise InvalidDPoPProof("The DPoP proof's algorithm is not allowed.")
    try:
        key = import_public_jwk(header.get("jwk"))
    except InvalidKey as exc:
        raise InvalidDPoPProof(f"The DPoP proof's jwk is not acceptable: {exc}.") from None
    try:
        claims = jwt.decode(proof, key, registry=DPOP_PROOF_REGISTRY).claims
    except (JoseError, ValueError, TypeError):
        raise InvalidDPoPProof("The DPoP proof's signature is invalid.") from None

    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI_LENGTH:
        raise InvalidDPoPProof("The DPoP proof has no usable jti.")
    if claims.get("htm") != method:
        raise InvalidDPoPProof("The DPoP proof's htm is not the request method.")
    htu, expected_htu = claims.get("htu"), canonical_url(url)
    if expected_htu is None or not isinstance(htu, str) or canonical_url(htu) != expected_htu:
        raise InvalidDPoPProof("The DPoP proof's htu is not the request URL.")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
        raise InvalidDPoPProof("The DPoP proof has no usable iat.")
    current = time.time() if now is None else now
    if abs(current - iat) > PROOF_WINDOW_SECONDS:
        raise InvalidDPoPProof("The DPoP proof is stale or from the future.")
    if access_token is not None and claims.get("ath") != b64url_sha256(access_token):
        raise InvalidDPoPProof("The DPoP proof's ath does not match the access token.")
    return DPoPProof(key_thumbprint=key.thumbprint(), jti=jti, issued_at=int(iat))
