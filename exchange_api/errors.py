"""Every error the service produces, rendered once as RFC 9457 problem+json.

The hierarchy::

    ProblemError            a domain error with an HTTP status and a problem type
    ├── BadRequest          400  malformed or unacceptable request (not a failed validation)
    │   ├── InvalidParameter 400 a path, query or header parameter failed validation
    │   └── MalformedJson   400  the body is not JSON
    ├── ValidationFailed    422  the body does not match the schema
    ├── NotFound            404  absent, or present but not visible to the caller (never 403)
    ├── Conflict            409
    ├── PreconditionFailed  412
    ├── PayloadTooLarge     413
    ├── PreconditionRequired 428
    └── ServiceUnavailable  503  a dependency (database, audit log) failed: fail closed

Services raise these; the handlers in this module turn them, FastAPI's validation errors,
Starlette's HTTP errors and any unhandled exception into the same JSON shape: ``type`` (a URN
``urn:exchange-api:problem:<slug>``), ``title``, ``status``, ``detail`` and, for validation,
``errors`` (a list of ``{loc, msg}``). Nothing here echoes the offending input: a validation
message says what was wrong, never the value, because values may be sensitive.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "BadRequest",
    "Conflict",
    "InvalidParameter",
    "MalformedJson",
    "NotFound",
    "OpenAPIResponses",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "ProblemError",
    "ServiceUnavailable",
    "ValidationFailed",
    "ValidationIssue",
    "install_error_handlers",
    "internal_error_response",
    "problem_error_response",
    "problem_response",
    "problem_type",
    "responses",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_URN = "urn:exchange-api:problem:"


class ValidationIssue(BaseModel):
    """One reason a request failed validation: where, and what was wrong (never the value)."""

    loc: list[int | str] = Field(description="Path to the offending item, e.g. body, route.")
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem document, the shape of every error this service returns."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A URN urn:exchange-api:problem:<slug> naming the problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[ValidationIssue] | None = Field(
        default=None, description="For validation failures only."
    )


def problem_type(slug: str) -> str:
    """The URN that names a kind of problem."""
    return _PROBLEM_URN + slug


OpenAPIResponses = dict[int | str, dict[str, Any]]
"""What a route's ``responses=`` takes: documentation of the answers besides the success."""


class ProblemError(Exception):
    """A domain error that becomes one problem+json response.

    ``denied_resource``: set by errors that refuse access to one record (an alert the caller may
    not see, or whose content is destroyed), so that the refusal is audited naming it;
    ``records_denial`` marks such a class (401 and 403 are always recorded).
    """

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"
    records_denial: ClassVar[bool] = False
    denied_resource: uuid.UUID | None = None

    @classmethod
    def response(cls, description: str) -> OpenAPIResponses:
        """This error's entry for a route's ``responses=``: the status it answers with, the
        problem schema and media type, and when it happens. Routes document the errors they
        raise through this, so the documentation and the raised class cannot disagree."""
        return {
            cls.status: {
                "model": Problem,
                "content": {PROBLEM_MEDIA_TYPE: {}},
                "description": description,
            }
        }

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = dict(headers or {})
        self.extra: dict[str, Any] = dict(extra or {})

    def document(self) -> dict[str, Any]:
        """The problem document, as a value: the body of its response, or one item of an answer
        that holds several (a batch's per-item errors)."""
        return {
            "type": problem_type(self.slug),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


def responses(*entries: OpenAPIResponses) -> OpenAPIResponses:
    """Several ``ProblemError.response`` entries as one ``responses=`` mapping."""
    merged: OpenAPIResponses = {}
    for entry in entries:
        merged.update(entry)
    return merged


class BadRequest(ProblemError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class InvalidParameter(BadRequest):
    slug = "invalid-parameter"
    title = "Invalid parameter"


class MalformedJson(BadRequest):
    slug = "malformed-json"
    title = "Malformed JSON"


class ValidationFailed(ProblemError):
    status = 422
    slug = "validation-error"
    title = "Validation failed"


class NotFound(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(ProblemError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class PreconditionRequired(ProblemError):
    status = 428
    slug = "precondition-required"
    title = "Precondition required"


class ServiceUnavailable(ProblemError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """The response of a problem that is not raised as a domain error (validation, HTTP)."""
    error = ProblemError(
        detail, slug=slug, title=title, status=status, headers=headers, extra=extra
    )
    return problem_error_response(error)


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Reduce pydantic's errors to ``{loc, msg}``: never the input, which may be sensitive."""
    return [{"loc": list(err.get("loc", ())), "msg": str(err.get("msg", ""))} for err in errors]


def problem_error_response(error: ProblemError) -> JSONResponse:
    """The response for a domain error (what the ``ProblemError`` handler answers)."""
    return JSONResponse(
        error.document(),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def _handle_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_error_response(exc)


async def _handle_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return problem_error_response(MalformedJson("The request body is not valid JSON."))
    issues = {"errors": _validation_errors(errors)}
    if any(err.get("loc", ("body",))[0] == "body" for err in errors):
        return problem_error_response(
            ValidationFailed(
                "The request body does not match the schema; see errors.", extra=issues
            )
        )
    # 422 is for bodies; a bad path, query or header parameter is a bad request.
    return problem_error_response(
        InvalidParameter("A path, query or header parameter is invalid; see errors.", extra=issues)
    )


async def _handle_http(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, ProblemError):
        # FastAPI wraps any error raised while reading the body (our 413 among them) in a 400.
        return await _handle_problem(_request, exc.__cause__)
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    slug = phrase.lower().replace(" ", "-").replace("'", "")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else phrase
    return problem_response(status, slug, phrase, detail, headers=exc.headers)


def internal_error_response() -> JSONResponse:
    """The answer to an unhandled exception: no traceback, no internals."""
    return problem_response(
        500, "internal-error", "Internal server error", "The server could not complete the request."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of error through the problem+json renderers above."""
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    # Unhandled exceptions are answered by RequestContextMiddleware, which wraps everything else
    # and so can still give the 500 its X-Request-ID.
