"""The client's signing key: from a PEM file or a JWK, with the algorithm the server accepts.

The exchange accepts client-signed JWTs (client assertions, officer grants, DPoP proofs) in
ES256 (EC P-256), PS256 (RSA, at least 2048 bits) and Ed25519 (OKP). The algorithm follows from
the key, so a caller never names it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

__all__ = ["SigningKey", "SigningKeyError", "load_signing_key"]

_Key = ECKey | RSAKey | OKPKey


class SigningKeyError(ValueError):
    """The key cannot be used; the message is one line and names no key material."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key and the JWS algorithm it signs with."""

    key: _Key
    alg: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def kid(self) -> str:
        """The RFC 7638 thumbprint: the ``kid`` to register the public key under."""
        return str(self.key.thumbprint())

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh EC P-256 key (what the SDK holds DPoP proofs with when none is given)."""
        return cls(ECKey.generate_key("P-256", private=True), "ES256")


def _of(key: Any) -> SigningKey:
    if isinstance(key, ECKey):
        if key.as_dict().get("crv") != "P-256":
            raise SigningKeyError("an EC key must be on P-256 (ES256)")
        return SigningKey(key, "ES256")
    if isinstance(key, RSAKey):
        return SigningKey(key, "PS256")
    if isinstance(key, OKPKey):
        if key.as_dict().get("crv") != "Ed25519":
            raise SigningKeyError("an OKP key must be Ed25519")
        return SigningKey(key, "Ed25519")
    raise SigningKeyError("the key must be EC P-256, RSA or Ed25519")


def _from_jwk(jwk: Mapping[str, Any]) -> SigningKey:
    types: dict[str, type[_Key]] = {"EC": ECKey, "RSA": RSAKey, "OKP": OKPKey}
    key_type = types.get(str(jwk.get("kty")))
    if key_type is None:
        raise SigningKeyError("the JWK's kty must be EC, RSA or OKP")
    if "d" not in jwk:
        raise SigningKeyError("the JWK holds no private key")
    try:
        return _of(key_type.import_key(dict(jwk)))
    except (JoseError, ValueError, TypeError):
        raise SigningKeyError("the JWK is not a usable key") from None


def load_signing_key(
    source: str | Path | Mapping[str, Any], password: bytes | None = None
) -> SigningKey:
    """The private key in ``source``: a JWK (a mapping), or a path to a PEM or JWK file."""
    if isinstance(source, Mapping):
        return _from_jwk(source)
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"key file not found: {path}") from None
    except OSError as exc:
        raise SigningKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
    if data.lstrip().startswith(b"{"):
        try:
            return _from_jwk(json.loads(data))
        except json.JSONDecodeError:
            raise SigningKeyError(f"{path} is neither PEM nor a JWK") from None
    if b"PRIVATE KEY" not in data:
        raise SigningKeyError(f"{path} holds no PEM private key")
    for key_type in (ECKey, OKPKey, RSAKey):
        try:
            return _of(key_type.import_key(data, password=password))
        except (JoseError, ValueError, TypeError):
            continue
    raise SigningKeyError(f"{path} is not an EC P-256, RSA or Ed25519 private key")
