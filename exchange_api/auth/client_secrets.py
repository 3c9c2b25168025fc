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

__all__ = ["SECRET_HASHER", "hash_client_secret", "new_client_secret", "verify_client_secret"]

_SECRET_BYTES = 32
#: The argon2id hasher of client secrets; the authorization server verifies through the one it
#: is given (``OAuthServer.secret_hasher``), this one unless told otherwise.
SECRET_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    return SECRET_HASHER.hash(secrets.token_urlsafe(_SECRET_BYTES))


def new_client_secret() -> str:
    """A fresh secret: 256 random bits, URL-safe. Shown once, never stored."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def hash_client_secret(secret: str) -> str:
    return SECRET_HASHER.hash(secret)


def verify_client_secret(
    secret_hash: str | None, secret: str, hasher: PasswordHasher = SECRET_HASHER
) -> bool:
    """True if ``secret`` matches ``secret_hash``; ``None`` (no such client) never matches."""
    try:
        return hasher.verify(secret_hash or _dummy_hash(), secret) and secret_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
