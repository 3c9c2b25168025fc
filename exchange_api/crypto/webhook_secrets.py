"""Webhook signing secrets: made, sealed under the keyring, and used to sign (Standard Webhooks).

A watch list with a webhook has a 256-bit signing secret. The client is shown it once, as
``whsec_`` + base64 (the Standard Webhooks form); the service must keep it to sign each delivery,
so it is stored sealed: wrapped by the keyring's current KEK exactly like an alert's data key,
bound to the watch list's id (a sealed secret copied to another list does not open).

The signature (https://www.standardwebhooks.com): ``v1,`` + base64 of HMAC-SHA256 under the secret
of ``"{webhook-id}.{webhook-timestamp}.{body}"``. The standard library's ``hmac`` does it in
three lines; the ``standardwebhooks`` package would add four dependencies for the same three.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from exchange_api.crypto.keyring import DEK_BYTES, Keyring, WrappedDek

__all__ = [
    "SECRET_PREFIX",
    "new_webhook_secret",
    "open_webhook_secret",
    "seal_webhook_secret",
    "shown_secret",
    "webhook_signature",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the public prefix of the shown form, not a secret
_BOUND_TO = "webhook-secret:"


def new_webhook_secret() -> bytes:
    """A fresh random signing secret (32 bytes)."""
    return os.urandom(DEK_BYTES)


def shown_secret(secret: bytes) -> str:
    """The secret as the client is shown it, once: ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(secret).decode("ascii")


def seal_webhook_secret(keyring: Keyring, secret: bytes, *, subscription_id: str) -> WrappedDek:
    """The secret wrapped under the current KEK, bound to its watch list."""
    return keyring.wrap_dek(secret, alert_id=_BOUND_TO + subscription_id)


def open_webhook_secret(keyring: Keyring, sealed: WrappedDek, *, subscription_id: str) -> bytes:
    """The secret of a watch list; :class:`IntegrityError` if it was not sealed for it."""
    return keyring.unwrap_dek(sealed, alert_id=_BOUND_TO + subscription_id)


def webhook_signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value of one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
