"""The problems of the OpenAPI document, written as the service sends them.

Routes document their errors through ``ProblemError.response`` (and the ``/v1`` router the ones
every route shares); two things about them are then corrected here, once for the whole app, in
the generated document:

- FastAPI puts a response's schema under ``application/json``, the route's media type. Every
  problem is sent as ``application/problem+json``: the Problem schema moves there, and
  ``application/json`` goes.
- FastAPI documents a 422 ``HTTPValidationError`` (``application/json``) on every route with
  parameters or a body. The handler in :mod:`exchange_api.errors` answers a bad parameter with
  400 ``invalid-parameter`` (the ``/v1`` router documents it) and only a body that does not
  match its schema with 422 ``validation-error``: that 422 replaces FastAPI's on the operations
  with a body, and goes from the others, with FastAPI's two schemas.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from exchange_api.errors import PROBLEM_MEDIA_TYPE, ValidationFailed

__all__ = ["document_problems"]

_JSON = "application/json"
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_FASTAPI_VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_BODY_INVALID = {
    "description": f"The body does not match the schema ({ValidationFailed.slug}); `errors` "
    "says where, never the value.",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
}


def document_problems(app: FastAPI) -> None:
    """Have ``app``'s OpenAPI document state its problems as they are sent (see above)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _correct(generate())
        return app.openapi_schema  # type: ignore[return-value]  # generate() sets it

    app.openapi = openapi  # type: ignore[method-assign]


def _correct(document: dict[str, Any]) -> None:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            answers: dict[str, Any] = operation.get("responses", {})
            for answer in answers.values():
                _as_problem(answer.get("content", {}))
            status = str(ValidationFailed.status)
            fastapis = answers.get(status, {}).get("content", {}).get(_JSON, {}).get("schema")
            if fastapis == _FASTAPI_VALIDATION_REF:
                if "requestBody" in operation:
                    answers[status] = _BODY_INVALID
                else:
                    del answers[status]
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)


def _as_problem(content: dict[str, Any]) -> None:
    """Move the Problem schema from ``application/json`` to problem+json, if both are listed."""
    if PROBLEM_MEDIA_TYPE in content and content.get(_JSON, {}).get("schema") == _PROBLEM_REF:
        content[PROBLEM_MEDIA_TYPE] = {"schema": content.pop(_JSON)["schema"]}
