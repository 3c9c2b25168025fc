"""Request-level inputs of the alerts endpoints: keys, settings, and the headers with rules.

``X-Purpose`` says why the caller reads (a case reference); it is required to read an alert or
its links (both decrypt) and to search by party or document, and it goes into the audit record.
``Idempotency-Key`` makes a create safe to retry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from exchange_api.alerts.errors import PurposeRequired, UnsupportedMediaType
from exchange_api.config import Settings
from exchange_api.crypto import Keyring

__all__ = [
    "MERGE_PATCH_MEDIA_TYPES",
    "IdempotencyKeyHeader",
    "KeyringDep",
    "PurposeHeader",
    "SettingsDep",
    "merge_patch_media_type",
    "require_purpose",
]

# The dependencies here do no I/O, so they are ``async def``: FastAPI runs them on the event loop
# instead of sending each to a worker thread and back (a thread hop costs more than they do).

MERGE_PATCH_MEDIA_TYPES = frozenset({"application/merge-patch+json", "application/json"})


async def get_keyring(request: Request) -> Keyring:
    """The app's keyring (built at start-up over the loaded key material)."""
    keyring: Keyring = request.app.state.keyring
    return keyring


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

PurposeHeader = Annotated[
    str | None,
    Header(
        alias="X-Purpose",
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Why the caller reads: a case reference or a short reason (audited).",
    ),
]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a create safe to retry: same key and body, same answer (per client).",
    ),
]


async def require_purpose(purpose: PurposeHeader = None) -> str:
    """The ``X-Purpose`` of a read that decrypts; 400 ``purpose-required`` without one."""
    if purpose is None:
        raise PurposeRequired("Reading an alert or its links")
    return purpose


async def merge_patch_media_type(request: Request) -> None:
    """Refuse (415) a change body that is not JSON Merge Patch (or plain JSON)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MERGE_PATCH_MEDIA_TYPES:
        raise UnsupportedMediaType(
            "Send the change as application/merge-patch+json (RFC 7386).",
            headers={"Accept-Patch": "application/merge-patch+json"},
        )
