"""The generated documents other agencies build against: the OpenAPI description and the JSON
Schemas of the exchange format. The CLI writes them; a test fails when the files drift."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from exchange_api.alerts.schemas import AlertCreate, AlertPatch, AlertRead
from exchange_api.assistance.schemas import RequestCreate, RequestRead, RequestReply
from exchange_api.config import Settings
from exchange_api.crypto import ensure_keys
from exchange_api.errors import Problem
from exchange_api.followups.schemas import FollowUpCreate, FollowUpRead

__all__ = ["EXCHANGE_FORMAT_MODELS", "render_openapi", "render_schemas"]

#: file name in ``schemas/`` → the model whose JSON Schema it holds.
EXCHANGE_FORMAT_MODELS: dict[str, type[BaseModel]] = {
    "problem.json": Problem,
    "alert-create.json": AlertCreate,
    "alert-read.json": AlertRead,
    "alert-patch.json": AlertPatch,
    "followup-create.json": FollowUpCreate,
    "followup-read.json": FollowUpRead,
    "request-create.json": RequestCreate,
    "request-reply.json": RequestReply,
    "request-read.json": RequestRead,
}


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_openapi() -> str:
    """The OpenAPI document of the app, built with throw-away keys and an in-memory database."""
    from exchange_api.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        keys_dir = Path(tmp) / "keys"
        ensure_keys(keys_dir)
        app = create_app(Settings(keys_dir=keys_dir, database_url="sqlite://"))
        return _dump(app.openapi())


def render_schemas() -> dict[str, str]:
    """File name → JSON Schema text, for every model of the exchange format."""
    return {
        name: _dump(model.model_json_schema(mode="validation"))
        for name, model in EXCHANGE_FORMAT_MODELS.items()
    }
