"""The two families of authentication errors, and how each is answered.

- :class:`OAuthError`: an error of the authorization server's own endpoints (token, revocation,
  introspection). RFC 6749 §5.2 fixes its shape — ``{"error", "error_description"}`` as
  ``application/json`` — and OAuth client libraries parse exactly that, so these endpoints answer
  it rather than problem+json.
- :class:`Unauthenticated` and :class:`InsufficientScope`: refusals of the API itself (resource
  server), which are problem+json like every other API error, with the RFC 6750 / RFC 9449
  ``WWW-Authenticate`` challenge in the header.

Descriptions are fixed texts chosen here: never a token, an assertion or a secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from exchange_api.errors import ProblemError

__all__ = [
    "InsufficientScope",
    "InvalidAuthorizationRequest",
    "OAuthError",
    "Unauthenticated",
    "oauth_error_response",
]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer; ``client_id`` is set once the client is known."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        client_id: str | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = dict(headers or {})
        self.client_id = client_id

    @classmethod
    def invalid_request(cls, description: str) -> OAuthError:
        return cls("invalid_request", description)

    @classmethod
    def invalid_client(cls, description: str, *, basic: bool = False) -> OAuthError:
        """401; with the ``Basic`` challenge when the client tried HTTP Basic (RFC 6749 §5.2)."""
        headers = {"WWW-Authenticate": 'Basic realm="exchange-api"'} if basic else None
        return cls("invalid_client", description, status=401, headers=headers)

    @classmethod
    def invalid_grant(cls, description: str) -> OAuthError:
        return cls("invalid_grant", description)

    @classmethod
    def invalid_scope(cls, description: str) -> OAuthError:
        return cls("invalid_scope", description)

    @classmethod
    def invalid_dpop_proof(cls, description: str) -> OAuthError:
        return cls("invalid_dpop_proof", description)


def oauth_error_response(error: OAuthError) -> JSONResponse:
    """The RFC 6749 §5.2 JSON answer for ``error``."""
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers={**_NO_STORE, **error.headers},
    )


class Unauthenticated(ProblemError):
    """401: no usable access token (or DPoP proof). Carries the ``WWW-Authenticate`` challenge."""

    status = 401
    slug = "invalid-token"
    title = "Invalid access token"


class InvalidAuthorizationRequest(ProblemError):
    """400: the request's credentials are ambiguous (RFC 6750 ``invalid_request``)."""

    status = 400
    slug = "invalid-request"
    title = "Invalid authorization request"


class InsufficientScope(ProblemError):
    """403: a valid token without the scope this operation needs."""

    status = 403
    slug = "insufficient-scope"
    title = "Insufficient scope"
