"""An endpoint's answer, written to JSON once.

FastAPI validates a model an endpoint returns against the route's ``response_model`` again and
then serializes it (``fastapi.routing.serialize_response``; for a ``def`` endpoint in one more
trip to a worker thread). The hot endpoints build their answer from a model that
is already the declared one, so they return :func:`model_response` instead: the same bytes, by
alias, as the route's ``response_model`` would write. The hottest reads write plain values laid
out as the declared model would (``records.summary_json`` and its kin) and answer with
:func:`json_response`.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel

__all__ = ["json_response", "model_response"]

_JSON = "application/json"


def json_response(body: bytes, *, headers: Mapping[str, str] | None = None) -> Response:
    """A 200 answer of JSON already written."""
    return Response(body, media_type=_JSON, headers=headers)


def model_response(
    model: BaseModel,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        model.model_dump_json(by_alias=True),
        status_code=status_code,
        media_type=_JSON,
        headers=headers,
    )
