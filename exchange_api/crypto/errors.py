"""The one error the crypto layer raises for stored data that does not authenticate.

A sealed field, a wrapped data key or a header that fails its check means the database was
altered, a value was moved to a place it does not belong, or the wrong key is in use. The service
fails closed (500) and says no more than that: the detail is a fixed sentence chosen here, never
plaintext, ciphertext or key bytes.
"""

from __future__ import annotations

from exchange_api.errors import ProblemError

__all__ = ["IntegrityError", "TokenUnavailable"]


class IntegrityError(ProblemError):
    """Stored ciphertext failed authentication (tampered, moved, or opened with the wrong key)."""

    status = 500
    slug = "integrity-failure"
    title = "Stored data failed its integrity check"

    def __init__(self, detail: str = "Stored data failed its integrity check.") -> None:
        super().__init__(detail)


class TokenUnavailable(Exception):
    """The PKCS#11 token cannot be used: module, label or PIN wrong, or no KEK in it. ``str()``
    is one line naming what, never the PIN."""
