"""Request-level inputs of the alerts endpoints that other domains do not share.

``Idempotency-Key`` makes a create safe to retry; a change body must be JSON Merge Patch. The
app-wide inputs (session, settings, keyring, ``X-Purpose``) are ``exchange_api.kit.dependencies``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request

from exchange_api.alerts.errors import UnsupportedMediaType

__all__ = ["MERGE_PATCH_MEDIA_TYPES", "IdempotencyKeyHeader", "merge_patch_media_type"]

MERGE_PATCH_MEDIA_TYPES = frozenset({"application/merge-patch+json", "application/json"})

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a create safe to retry: same key and body, same answer (per client).",
    ),
]


async def merge_patch_media_type(request: Request) -> None:
    """Refuse (415) a change body that is not JSON Merge Patch (or plain JSON)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MERGE_PATCH_MEDIA_TYPES:
        raise UnsupportedMediaType(
            "Send the change as application/merge-patch+json (RFC 7386).",
            headers={"Accept-Patch": "application/merge-patch+json"},
        )
