"""Signed checkpoints of the audit chain and the JWKS of their public keys (docs/contract.md §6).

The hash chain alone has no secret: whoever can write the entries table can rewrite a suffix
and recompute every hash after it, or cut the tail off. A checkpoint is the service's Ed25519
signature over ``{log_id, seq, hash, at}`` (RFC 8785 canonical JSON, the same canonicaliser as
the entries): it pins "entry ``seq`` of log ``log_id`` had hash ``hash``", so a rewrite at or
before ``seq``, or a truncation below it, is evident to anyone holding the public key.

Keys are named by their RFC 7638 JWK thumbprint (``kid``), which makes a ``kid`` self-certifying:
:func:`load_public_keys_from_jwks` refuses a JWKS whose ``kid`` is not the thumbprint of its key,
so a key set cannot map a trusted name to another key. Signatures are base64url without padding,
decoded strictly (one encoding per signature).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from exchange_api.audit.chain import canonical_json, parse_audit_time

__all__ = [
    "Checkpoint",
    "InvalidCheckpointError",
    "InvalidJWKSError",
    "key_id",
    "load_public_keys_from_jwks",
    "public_jwks",
    "sign_checkpoint",
    "verify_checkpoint",
]

_HEX_HASH: Final = re.compile(r"[0-9a-f]{64}")
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")
_ED25519_PUBLIC_KEY_SIZE: Final = 32
_JWK_ALGORITHMS: Final = frozenset({"EdDSA", "Ed25519"})


class InvalidCheckpointError(ValueError):
    """A checkpoint's fields do not have the shape docs/contract.md §6 prescribes."""


class InvalidJWKSError(ValueError):
    """A key set is not a JWKS of Ed25519 public keys named by their thumbprints."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """The signed statement "entry ``seq`` of log ``log_id`` has hash ``hash``"."""

    log_id: str
    seq: int
    hash: str
    """Lower-case hex SHA-256 of the entry at ``seq`` (32 zero bytes for seq 0, the empty log)."""
    at: str
    """When it was signed, in the audit time format (RFC 3339 UTC, microseconds, ``Z``)."""
    kid: str
    signature: str
    """Ed25519 signature over :meth:`signed_payload`, base64url without padding."""

    def __post_init__(self) -> None:
        if not isinstance(self.log_id, str) or not self.log_id:
            raise InvalidCheckpointError("log_id must be a non-empty string")
        if type(self.seq) is not int or self.seq < 0:
            raise InvalidCheckpointError("seq must be a non-negative integer")
        if not isinstance(self.hash, str) or not _HEX_HASH.fullmatch(self.hash):
            raise InvalidCheckpointError("hash must be 64 lower-case hex digits")
        try:
            parse_audit_time(self.at if isinstance(self.at, str) else "")
        except ValueError as exc:
            raise InvalidCheckpointError(f"at: {exc}") from None
        if not (isinstance(self.kid, str) and isinstance(self.signature, str)):
            raise InvalidCheckpointError("kid and signature must be strings")

    def signed_payload(self) -> bytes:
        """The bytes the signature covers: canonical JSON of ``{log_id, seq, hash, at}``."""
        return canonical_json(
            {"log_id": self.log_id, "seq": self.seq, "hash": self.hash, "at": self.at}
        )

    def as_dict(self) -> dict[str, str | int]:
        """The wire form (API response, checkpoint file)."""
        return {
            "log_id": self.log_id,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "kid": self.kid,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Checkpoint:
        """Read the wire form; exactly the six fields, each checked."""
        names = {field.name for field in fields(cls)}
        if set(data) != names:
            raise InvalidCheckpointError(f"a checkpoint has exactly the fields {sorted(names)}")
        log_id, seq, hash_hex = data["log_id"], data["seq"], data["hash"]
        at, kid, signature = data["at"], data["kid"], data["signature"]
        if not (
            isinstance(log_id, str)
            and isinstance(seq, int)
            and isinstance(hash_hex, str)
            and isinstance(at, str)
            and isinstance(kid, str)
            and isinstance(signature, str)
        ):
            raise InvalidCheckpointError("checkpoint fields have the wrong types")
        return cls(log_id=log_id, seq=seq, hash=hash_hex, at=at, kid=kid, signature=signature)


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes | None:
    """Strict unpadded base64url: ``None`` unless ``text`` is the one encoding of its bytes."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        return None
    return raw if _b64url_encode(raw) == text else None


def key_id(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of the key as an OKP JWK."""
    return OKPKey.import_key(public_key).thumbprint()


def sign_checkpoint(
    key: Ed25519PrivateKey, *, log_id: str, seq: int, hash_hex: str, at: str
) -> Checkpoint:
    """Sign "entry ``seq`` of ``log_id`` has hash ``hash_hex``" at time ``at``."""
    unsigned = Checkpoint(
        log_id=log_id, seq=seq, hash=hash_hex, at=at, kid=key_id(key.public_key()), signature=""
    )
    return replace(unsigned, signature=_b64url_encode(key.sign(unsigned.signed_payload())))


def verify_checkpoint(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    """Whether ``checkpoint.signature`` is ``public_key``'s signature over its payload.

    The caller picks ``public_key`` by ``checkpoint.kid``; this checks the signature only.
    """
    signature = _b64url_decode(checkpoint.signature)
    if signature is None:
        return False
    try:
        public_key.verify(signature, checkpoint.signed_payload())
    except InvalidSignature:
        return False
    return True


def public_jwks(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, list[dict[str, str]]]:
    """The JWKS that publishes the checkpoint-signing keys (``GET /v1/audit/keys``)."""
    jwks: dict[str, dict[str, str]] = {}
    for public_key in public_keys:
        kid = key_id(public_key)
        jwks[kid] = {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url_encode(public_key.public_bytes_raw()),
            "kid": kid,
            "alg": "EdDSA",
            "use": "sig",
        }
    return {"keys": list(jwks.values())}


def _load_jwk(jwk: Mapping[str, object]) -> tuple[str, Ed25519PublicKey]:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidJWKSError("only OKP keys on Ed25519 sign checkpoints")
    if "d" in jwk:
        raise InvalidJWKSError("a public key set must not contain private keys")
    if jwk.get("alg", "EdDSA") not in _JWK_ALGORITHMS or jwk.get("use", "sig") != "sig":
        raise InvalidJWKSError("a checkpoint key must be a signing key for EdDSA")
    x = jwk.get("x")
    raw = _b64url_decode(x) if isinstance(x, str) else None
    if raw is None or len(raw) != _ED25519_PUBLIC_KEY_SIZE:
        raise InvalidJWKSError("x must be a base64url-encoded 32-byte Ed25519 public key")
    public_key = Ed25519PublicKey.from_public_bytes(raw)
    kid = key_id(public_key)
    if jwk.get("kid", kid) != kid:
        raise InvalidJWKSError("kid must be the key's RFC 7638 thumbprint")
    return kid, public_key


def load_public_keys_from_jwks(jwks: Mapping[str, object]) -> dict[str, Ed25519PublicKey]:
    """The checkpoint-verifying keys of a JWKS, by ``kid``; refuses anything doubtful."""
    keys = jwks.get("keys")
    if not isinstance(keys, list) or not all(isinstance(jwk, Mapping) for jwk in keys):
        raise InvalidJWKSError('a JWKS is an object with a "keys" list of JWK objects')
    return dict(_load_jwk(jwk) for jwk in keys)
