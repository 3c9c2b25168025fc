"""Client secrets (``client_secret_basic``, development only): made here, kept only as argon2id
hashes, compared in constant time by argon2.

An unknown client is checked against a fixed dummy hash, so that the time an answer takes does not
tell whether a client id exists.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_client_secret", "new_client_secret", "verify_client_secret"]

_SECRET_BYTES = 32
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(_SECRET_BYTES))


def new_client_secret() -> str:
    """A fresh secret: 256 random bits, URL-safe. Shown once, never stored."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def hash_client_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_client_secret(secret_hash: str | None, secret: str) -> bool:
    """True if ``secret`` matches ``secret_hash``; ``None`` (no such client) never matches."""
    try:
        return _HASHER.verify(secret_hash or _dummy_hash(), secret) and secret_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
