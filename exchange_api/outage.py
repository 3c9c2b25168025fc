"""A database outage, answered and logged as one: 503 with ``Retry-After``, one log line per kind.

When the database cannot be reached (refused, reset, closed mid-query), SQLAlchemy raises an
``OperationalError`` or an ``InterfaceError`` from wherever the request was. Whatever it was
doing, the answer is the same: 503 ``service-unavailable`` with ``Retry-After`` — at
``POST /oauth/token`` the RFC 6749 error ``temporarily_unavailable``, which is what OAuth clients
know to retry. The failure is logged by :class:`~exchange_api.kit.failures.FailureLog`: one line
per kind (error type) and minute, not a stack trace per request. Nothing needs resetting when the
database is back: the pool checks a connection before lending it (``pool_pre_ping``) and drops
the dead ones, so the next request simply works.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.responses import Response

from exchange_api.auth.errors import OAuthError, oauth_error_response
from exchange_api.auth.server import TOKEN_PATH
from exchange_api.errors import ServiceUnavailable, problem_error_response
from exchange_api.kit.failures import FailureLog

__all__ = ["RETRY_AFTER_SECONDS", "DatabaseUnavailable", "install_outage_handling"]

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(ServiceUnavailable):
    """503: the database cannot be reached; nothing was read or changed."""

    def __init__(self) -> None:
        super().__init__(
            "The service cannot reach its database: nothing was read or changed. Try again "
            f"in {RETRY_AFTER_SECONDS} seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


async def _answer_outage(request: Request, exc: Exception) -> Response:
    failures: FailureLog = request.app.state.failure_log
    failures.failed(f"database ({type(exc).__name__})", exc.__cause__ or exc)
    if request.url.path == TOKEN_PATH:
        error = OAuthError(
            "temporarily_unavailable",
            "The authorization server cannot reach its database; try again later.",
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        return oauth_error_response(error)
    return problem_error_response(DatabaseUnavailable())


def install_outage_handling(app: FastAPI) -> None:
    """Answer a lost database connection as an outage (see the module docstring)."""
    app.add_exception_handler(OperationalError, _answer_outage)
    app.add_exception_handler(InterfaceError, _answer_outage)
