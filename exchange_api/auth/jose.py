"""JOSE for the authorization server, on joserfc: pinned algorithms and the keys we accept.

A JWS verifier that lets the token choose its algorithm is the classic hole (``alg: none``, or an
HMAC keyed with the server's *public* key). Every verification in ``auth/`` therefore passes one of
the registries below, which know no other algorithm than the ones listed:

- access tokens (ours): ES256 only;
- JWTs signed by clients (client assertions, JWT-bearer grants) and DPoP proofs: ES256, PS256 and
  Ed25519. RFC 9864 deprecates the polymorphic ``EdDSA`` name in favour of the fully specified
  ``Ed25519``; clients still send ``EdDSA``, so it is accepted as *exactly* RFC 9864's Ed25519
  under its old name (an Ed448 key is refused either way).

Keys that clients register or put in a DPoP proof must be public, and of a type and size we accept
(EC P-256, RSA ≥ 2048 bits, OKP Ed25519); a JWK carrying private members is refused rather than
silently stripped, because it means the private key has left its owner.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from joserfc import jwk, jws
from joserfc.errors import JoseError
from joserfc.jwa import JWS_ALGORITHMS, JWSAlgModel
from joserfc.jws import JWSRegistry

__all__ = [
    "ACCESS_TOKEN_ALGORITHM",
    "ACCESS_TOKEN_REGISTRY",
    "CLIENT_JWT_REGISTRY",
    "CLIENT_SIGNING_ALGORITHMS",
    "DPOP_PROOF_REGISTRY",
    "MAX_CLIENT_KEYS",
    "InvalidKey",
    "PublicKey",
    "b64url_sha256",
    "import_client_jwks",
    "import_public_jwk",
    "key_for_header",
    "peek",
    "sha256_hex",
]

ACCESS_TOKEN_ALGORITHM = "ES256"  # noqa: S105 (an algorithm name)
CLIENT_SIGNING_ALGORITHMS = ("ES256", "PS256", "EdDSA", "Ed25519")
MAX_CLIENT_KEYS = 5
_MIN_RSA_BITS = 2048
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

PublicKey = jwk.ECKey | jwk.RSAKey | jwk.OKPKey

_LIBRARY_ALGORITHMS: dict[str, JWSAlgModel] = {alg.name: alg for alg in JWS_ALGORITHMS}


def _eddsa_as_ed25519() -> JWSAlgModel:
    alg = copy.copy(_LIBRARY_ALGORITHMS["Ed25519"])
    alg.name = "EdDSA"
    return alg


def _pinned_registry(
    names: Collection[str], *, strict_headers: bool, max_header_length: int | None = None
) -> JWSRegistry:
    """A registry that knows only ``names``: anything else is 'not supported', not 'not allowed'.

    ``max_header_length`` (bytes of the encoded header) replaces joserfc's default of 512."""
    known = {name: _LIBRARY_ALGORITHMS[name] for name in names if name != "EdDSA"}
    if "EdDSA" in names:
        known["EdDSA"] = _eddsa_as_ed25519()
    members: dict[str, Any] = {"algorithms": known, "recommended": []}
    if max_header_length is not None:
        members["max_header_length"] = max_header_length
    pinned = type("PinnedJWSRegistry", (JWSRegistry,), members)
    registry: JWSRegistry = pinned(algorithms=list(known), strict_check_header=strict_headers)
    return registry


#: Verifies our own access tokens: ES256, registered header parameters only.
ACCESS_TOKEN_REGISTRY = _pinned_registry([ACCESS_TOKEN_ALGORITHM], strict_headers=True)
#: Verifies client-signed JWTs and DPoP proofs. Other libraries add header parameters of their
#: own, so unknown ones are tolerated; ``crit`` is still enforced by joserfc.
CLIENT_JWT_REGISTRY = _pinned_registry(CLIENT_SIGNING_ALGORITHMS, strict_headers=False)
#: Verifies DPoP proofs: as ``CLIENT_JWT_REGISTRY``, but a proof carries its public key in its
#: header, and an RSA key's JWK (PS256) alone passes joserfc's 512-byte header cap (~560 bytes
#: encoded for 2048 bits). 2048 bytes hold an RSA-4096 key's header; the whole proof stays
#: capped by ``exchange_api.auth.dpop``.
DPOP_PROOF_REGISTRY = _pinned_registry(
    CLIENT_SIGNING_ALGORITHMS, strict_headers=False, max_header_length=2048
)


class InvalidKey(ValueError):
    """A JWK or JWKS we do not accept; the message says why (never the key material)."""


def _b64url_bits(value: object) -> int:
    if not isinstance(value, str):
        raise InvalidKey("RSA modulus 'n' must be a base64url string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise InvalidKey("RSA modulus 'n' is not base64url") from None
    return int.from_bytes(raw, "big").bit_length()


def import_public_jwk(data: object) -> PublicKey:
    """Import one public signing key, refusing private, symmetric, weak or unexpected keys."""
    if not isinstance(data, Mapping):
        raise InvalidKey("a JWK must be a JSON object")
    if _PRIVATE_MEMBERS & set(data):
        raise InvalidKey("the JWK holds private key members: register the public key only")
    if data.get("use", "sig") != "sig":
        raise InvalidKey("the JWK 'use' must be 'sig'")
    alg = data.get("alg")
    if alg is not None and alg not in CLIENT_SIGNING_ALGORITHMS:
        raise InvalidKey(f"the JWK 'alg' must be one of {', '.join(CLIENT_SIGNING_ALGORITHMS)}")
    kty = data.get("kty")
    if kty == "EC" and data.get("crv") != "P-256":
        raise InvalidKey("EC keys must be on the P-256 curve (ES256)")
    if kty == "OKP" and data.get("crv") != "Ed25519":
        raise InvalidKey("OKP keys must be Ed25519")
    if kty == "RSA" and _b64url_bits(data.get("n")) < _MIN_RSA_BITS:
        raise InvalidKey(f"RSA keys must have at least {_MIN_RSA_BITS} bits")
    if kty not in {"EC", "OKP", "RSA"}:
        raise InvalidKey("the JWK 'kty' must be EC, RSA or OKP")
    try:
        key = jwk.import_key(dict(data))
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidKey("the JWK is malformed") from None
    if not isinstance(key, PublicKey) or key.is_private:
        raise InvalidKey("the JWK is not a public signing key")
    return key


def import_client_jwks(document: object) -> list[PublicKey]:
    """Import a client's JWKS (``{"keys": [...]}``); each key gets a ``kid`` (its RFC 7638
    thumbprint unless it names one), and the ``kid`` values must be distinct."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise InvalidKey('a JWKS must be a JSON object {"keys": [...]}')
    entries: list[Any] = document["keys"]
    if not 1 <= len(entries) <= MAX_CLIENT_KEYS:
        raise InvalidKey(f"a JWKS must hold between 1 and {MAX_CLIENT_KEYS} keys")
    keys = [import_public_jwk(entry) for entry in entries]
    for key in keys:
        key.ensure_kid()
    if len({key.kid for key in keys}) != len(keys):
        raise InvalidKey("the keys' 'kid' values must be distinct")
    return keys


def key_for_header(keys: list[PublicKey], header: Mapping[str, Any]) -> PublicKey:
    """The registered key a JWS header designates: by ``kid``, or the only key if it names none.

    A key registered with an ``alg`` verifies that algorithm only.
    """
    kid = header.get("kid")
    only_key = kid is None and len(keys) == 1
    candidates = keys if only_key else [key for key in keys if key.kid == kid]
    if not candidates:
        raise InvalidKey("no registered key matches the JWT's 'kid'")
    key = candidates[0]
    if key.alg is not None and key.alg != header.get("alg"):
        raise InvalidKey("the JWT's 'alg' is not the one registered for its key")
    return key


def peek(token: str, registry: JWSRegistry | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, *unverified*: only to find out which key verifies it.
    ``registry`` sets the size limits (joserfc's defaults without it).

    Raises :class:`JoseError` or :class:`ValueError` when it is not a compact JWS of a JSON object.
    """
    obj = jws.extract_compact(token.encode("ascii"), registry=registry)
    claims = json.loads(obj.payload)
    if not isinstance(claims, dict):
        raise ValueError("the JWT payload is not a JSON object")
    return dict(obj.headers()), claims


def sha256_hex(*parts: str) -> str:
    """Digest of client-chosen identifiers, to store them at a fixed length."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def b64url_sha256(text: str) -> str:
    """base64url (no padding) of SHA-256 over ASCII text: DPoP's ``ath`` (RFC 9449 §4.2)."""
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
