"""Every error the client raises. The hierarchy::

    ExchangeError
    ├── ConfigurationError      the client cannot be set up (key file, URL)
    ├── Unreachable             no answer from the server after the retries
    ├── UncertainOutcome        a write whose answer was lost and that may not be resent safely
    ├── TokenRefused            the token endpoint said no (RFC 6749 error: .error, .description)
    └── ProblemError            an API error: .problem is the RFC 9457 document as received
        ├── BadRequest (400)    MalformedJson, InvalidParameter, UnknownQueryParameter,
        │                       InvalidCursor, PurposeRequired, InvalidRequest,
        │                       ClientSecretsDisabled
        ├── Unauthorized (401)  MissingToken, InvalidToken, InvalidDpopProof
        ├── Forbidden (403)     InsufficientScope, NotOwner, NotAddressee
        ├── NotFound (404), MethodNotAllowed (405)
        ├── Conflict (409)      IdempotencyKeyReused, AlreadyReplied
        ├── Gone (410)          AlertShredded, CursorExpired
        ├── PreconditionFailed (412), PayloadTooLarge (413), UnsupportedMediaType (415)
        ├── ValidationFailed (422)  AddresseeCannotSeeAlert
        ├── PreconditionRequired (428), RateLimited (429)
        ├── ServerError (500)   IntegrityFailure, InternalError
        └── ServiceUnavailable (503)  AuditUnavailable, NotReady

A problem is raised as the class registered for its ``type`` (``urn:exchange-api:problem:<slug>``);
a type this client does not know yet falls back to the class of its status, so code written
against a status keeps working when the server learns a new problem type.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "PROBLEM_URN",
    "AddresseeCannotSeeAlert",
    "AgencyOutOfReach",
    "AlertShredded",
    "AlreadyReplied",
    "AuditUnavailable",
    "BadRequest",
    "ClientSecretsDisabled",
    "ConfigurationError",
    "Conflict",
    "CursorExpired",
    "ExchangeError",
    "Forbidden",
    "Gone",
    "IdempotencyKeyReused",
    "InsufficientScope",
    "IntegrityFailure",
    "InternalError",
    "InvalidCursor",
    "InvalidDpopProof",
    "InvalidParameter",
    "InvalidRequest",
    "InvalidToken",
    "MalformedJson",
    "MethodNotAllowed",
    "MissingToken",
    "NetworkStatisticsForbidden",
    "NotAddressee",
    "NotFound",
    "NotOwner",
    "NotReady",
    "OwnClient",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "ProblemError",
    "PurposeRequired",
    "RateLimitStoreUnavailable",
    "RateLimited",
    "ScopesNotGrantable",
    "ServerError",
    "ServiceUnavailable",
    "StatisticsWindow",
    "ThresholdTooLow",
    "TokenRefused",
    "Unauthorized",
    "UncertainOutcome",
    "UnknownQueryParameter",
    "Unreachable",
    "UnstorableText",
    "UnsupportedMediaType",
    "ValidationFailed",
    "problem_class",
    "raise_problem",
]

PROBLEM_URN = "urn:exchange-api:problem:"


class ExchangeError(Exception):
    """Anything the client raises."""


class ConfigurationError(ExchangeError):
    """The client cannot be set up as asked (a missing key file, a bad URL)."""


class Unreachable(ExchangeError):
    """The server could not be reached, or kept dropping the connection, through every retry."""


class UncertainOutcome(ExchangeError):
    """A write was sent, its answer was lost, and the endpoint cannot replay it by
    ``Idempotency-Key``: it may or may not have happened, so it is not sent again."""


class TokenRefused(ExchangeError):
    """``POST /oauth/token`` refused: ``error`` is the RFC 6749 code (``invalid_client``…)."""

    def __init__(self, status: int, error: str, description: str | None) -> None:
        super().__init__(f"token refused ({status} {error}): {description or 'no description'}")
        self.status = status
        self.error = error
        self.description = description


class ProblemError(ExchangeError):
    """An RFC 9457 problem from the API. ``problem`` is the whole document as received."""

    status: ClassVar[int] = 0
    slug: ClassVar[str | None] = None

    def __init__(self, problem: dict[str, Any], status: int | None = None) -> None:
        self.problem = problem
        self.http_status = status if status is not None else int(problem.get("status", 0))
        title = problem.get("title") or "problem"
        detail = problem.get("detail")
        super().__init__(f"{self.http_status} {title}" + (f": {detail}" if detail else ""))

    @property
    def type(self) -> str:
        return str(self.problem.get("type", ""))

    @property
    def detail(self) -> str | None:
        detail = self.problem.get("detail")
        return None if detail is None else str(detail)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """``{loc, msg}`` of a validation failure; empty for other problems."""
        return list(self.problem.get("errors") or [])


# One class per status; then one per documented problem type, under its status.
class BadRequest(ProblemError):
    status = 400


class Unauthorized(ProblemError):
    status = 401


class Forbidden(ProblemError):
    status = 403


class NotFound(ProblemError):
    status = 404
    slug = "not-found"


class MethodNotAllowed(ProblemError):
    status = 405
    slug = "method-not-allowed"


class Conflict(ProblemError):
    status = 409
    slug = "conflict"


class Gone(ProblemError):
    status = 410


class PreconditionFailed(ProblemError):
    status = 412
    slug = "precondition-failed"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"


class ValidationFailed(ProblemError):
    status = 422
    slug = "validation-error"


class PreconditionRequired(ProblemError):
    status = 428
    slug = "precondition-required"


class RateLimited(ProblemError):
    status = 429
    slug = "rate-limited"


class ServerError(ProblemError):
    status = 500


class ServiceUnavailable(ProblemError):
    status = 503
    slug = "service-unavailable"


class MalformedJson(BadRequest):
    slug = "malformed-json"


class InvalidParameter(BadRequest):
    slug = "invalid-parameter"


class UnknownQueryParameter(BadRequest):
    slug = "unknown-query-parameter"


class InvalidCursor(BadRequest):
    slug = "invalid-cursor"


class PurposeRequired(BadRequest):
    slug = "purpose-required"


class InvalidRequest(BadRequest):
    slug = "invalid-request"


class ClientSecretsDisabled(BadRequest):
    slug = "client-secrets-disabled"


class MissingToken(Unauthorized):
    slug = "missing-token"


class InvalidToken(Unauthorized):
    slug = "invalid-token"


class InvalidDpopProof(Unauthorized):
    slug = "invalid-dpop-proof"


class UnstorableText(BadRequest):
    """Text a database cannot store (a NUL, an unpaired surrogate)."""

    slug = "unstorable-text"


class StatisticsWindow(BadRequest):
    """Network statistics take dates that cover whole months."""

    slug = "statistics-window"


class ThresholdTooLow(BadRequest):
    """An early-warning threshold below the network's minimum."""

    slug = "threshold-too-low"


class NetworkStatisticsForbidden(Forbidden):
    """Network-wide statistics are not for industry agencies."""

    slug = "network-statistics-forbidden"


class AgencyOutOfReach(Forbidden):
    """A client administered for an agency the caller does not administer."""

    slug = "agency-out-of-reach"


class ScopesNotGrantable(Forbidden):
    """Scopes the caller does not hold, or may not grant."""

    slug = "scopes-not-grantable"


class OwnClient(Forbidden):
    """A client disabling or enabling itself."""

    slug = "own-client"


class InsufficientScope(Forbidden):
    slug = "insufficient-scope"


class NotOwner(Forbidden):
    slug = "not-owner"


class NotAddressee(Forbidden):
    """The sender of a request replying to it: only its addressee may."""

    slug = "not-addressee"


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"


class AlreadyReplied(Conflict):
    """A request is answered once."""

    slug = "already-replied"


class AlertShredded(Gone):
    slug = "alert-shredded"


class CursorExpired(Gone):
    slug = "cursor-expired"


class AddresseeCannotSeeAlert(ValidationFailed):
    """A request to an agency that may not see the alert (``errors`` points at ``to``)."""

    slug = "addressee-cannot-see-alert"


class IntegrityFailure(ServerError):
    slug = "integrity-failure"


class InternalError(ServerError):
    slug = "internal-error"


class AuditUnavailable(ServiceUnavailable):
    slug = "audit-unavailable"


class RateLimitStoreUnavailable(ServiceUnavailable):
    """The shared rate-limit store did not answer: guessing searches wait a moment."""

    slug = "rate-limit-store-unavailable"


class NotReady(ServiceUnavailable):
    slug = "not-ready"


def _subclasses(cls: type[ProblemError]) -> list[type[ProblemError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


_BY_SLUG: dict[str, type[ProblemError]] = {
    cls.slug: cls for cls in _subclasses(ProblemError) if cls.slug is not None
}
_BY_STATUS: dict[int, type[ProblemError]] = {
    cls.status: cls for cls in ProblemError.__subclasses__()
}


def problem_class(problem_type: str, status: int) -> type[ProblemError]:
    """The exception class for a problem ``type`` URN, else for its status, else the base."""
    if problem_type.startswith(PROBLEM_URN):
        found = _BY_SLUG.get(problem_type.removeprefix(PROBLEM_URN))
        if found is not None:
            return found
    return _BY_STATUS.get(status, ProblemError)


def raise_problem(problem: dict[str, Any], status: int) -> None:
    """Raise the problem as its exception class."""
    raise problem_class(str(problem.get("type", "")), status)(problem, status)
