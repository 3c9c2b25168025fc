"""Scopes, and the typed aliases through which every endpoint declares the one it needs.

An endpoint states its access in its signature, once::

    @router.get("/alerts/{alert_id}")
    def read_alert(alert_id: UUID, caller: AlertsRead, session: SessionDep) -> AlertRead: ...

``AlertsRead`` is ``Annotated[Caller, Depends(require_scope(Scope.ALERTS_READ))]``: the caller
(authenticated by :func:`~exchange_api.auth.resource.current_caller`, which the ``/v1`` router
already runs for every route — FastAPI runs it once per request, whichever way it is reached), or
403 ``insufficient-scope`` if the token lacks the scope. A router whose every route needs one scope
can say so when it is included: ``dependencies=[Depends(require_scope(Scope.ALERTS_READ))]``.

The same dependency names the scope in the OpenAPI document (the ``oauth2`` security scheme), so
the published contract and the enforced one cannot differ.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security.base import SecurityBase

from exchange_api.auth.caller import Caller
from exchange_api.auth.errors import InsufficientScope
from exchange_api.auth.resource import CallerDep, challenge
from exchange_api.auth.server import TOKEN_PATH, get_oauth_server

__all__ = [
    "SCOPE_DESCRIPTIONS",
    "AlertsRead",
    "AlertsWrite",
    "AnyScope",
    "AuditRead",
    "ClientsAdmin",
    "NetworkAdmin",
    "Scope",
    "bearer_scheme",
    "oauth2_scheme",
    "require_scope",
]


class Scope(enum.StrEnum):
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    AUDIT_READ = "audit:read"
    CLIENTS_ADMIN = "clients:admin"
    NETWORK_ADMIN = "network:admin"


SCOPE_DESCRIPTIONS: dict[str, str] = {
    Scope.ALERTS_READ: "Read and search alerts and the substance catalogue.",
    Scope.ALERTS_WRITE: "Report alerts and change the caller's agency's own alerts.",
    Scope.AUDIT_READ: "Read, export and verify the whole network's audit log (operator-granted).",
    Scope.CLIENTS_ADMIN: (
        "Register, list, disable and enable the client systems of the caller's own agency, "
        "granting only scopes the caller holds."
    ),
    Scope.NETWORK_ADMIN: (
        "The network operator: register and list agencies; with clients:admin, administer the "
        "clients of every agency; introspect any token. Granted only at the command line."
    ),
}

_SCHEME_DESCRIPTION = (
    "Access tokens from POST /oauth/token: grant client_credentials, or "
    "urn:ietf:params:oauth:grant-type:jwt-bearer to act for an officer; client authentication "
    "private_key_jwt (or client_secret_basic where enabled). Send the token as "
    "`Authorization: Bearer <token>`, or — for a DPoP-bound token (RFC 9449) — as "
    "`Authorization: DPoP <token>` with a fresh `DPoP` proof on every request."
)


class _DocumentedOAuth2(SecurityBase):
    """Puts the OAuth2 scheme and each operation's scope in the OpenAPI document.

    It checks nothing itself: ``current_caller`` authenticates, ``require_scope`` authorises.
    """

    def __init__(self) -> None:
        flow = OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH, scopes=SCOPE_DESCRIPTIONS)
        self.model = OAuth2Model(
            flows=OAuthFlows(clientCredentials=flow), description=_SCHEME_DESCRIPTION
        )
        self.scheme_name = "oauth2"

    async def __call__(self) -> None:
        return None


oauth2_scheme = _DocumentedOAuth2()


class _DocumentedBearer(SecurityBase):
    """Puts a plain ``bearer`` scheme in the OpenAPI document, as an alternative to ``oauth2``:
    what the API docs page's *Authorize* button needs to take a token obtained elsewhere (with a
    client assertion, which a browser form cannot sign). Checks nothing, like the one above."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="An access token from POST /oauth/token (not DPoP-bound: a DPoP-bound "
            "token needs a fresh proof on every request, which the docs page cannot make).",
        )
        self.scheme_name = "bearer"

    async def __call__(self) -> None:
        return None


bearer_scheme = _DocumentedBearer()


@cache
def require_scope(scope: Scope) -> Callable[..., Awaitable[Caller]]:
    """The dependency that gives the caller if its token holds ``scope`` (403 otherwise).

    One function per scope (cached), so FastAPI runs each check at most once per request.
    """

    # A default, not an annotation: annotations are strings here, evaluated without this closure.
    documented = Security(oauth2_scheme, scopes=[scope.value])
    also_documented = Security(bearer_scheme)

    async def caller_with_scope(
        request: Request,
        caller: CallerDep,
        _documented: None = documented,
        _also_documented: None = also_documented,
    ) -> Caller:
        if caller.has_scope(scope):
            return caller
        header = challenge(
            get_oauth_server(request),
            error="insufficient_scope",
            description=f"This operation needs the scope {scope.value}.",
            scope=scope.value,
        )
        raise InsufficientScope(
            f"This operation needs the scope {scope.value}.",
            headers={"WWW-Authenticate": header},
            extra={"required_scope": scope.value},
        )

    caller_with_scope.__name__ = f"require_{scope.name.lower()}"
    return caller_with_scope


async def any_scope(
    caller: CallerDep,
    _documented: None = Security(oauth2_scheme, scopes=[]),
    _also_documented: None = Security(bearer_scheme),
) -> Caller:
    """The caller, whatever scopes its token holds: for what every member may read (the
    directory). The authentication itself is the ``/v1`` router's; this only documents it."""
    return caller


AnyScope = Annotated[Caller, Depends(any_scope)]
"""A valid token, whatever its scopes (documented in OpenAPI with an empty scope list)."""
AlertsRead = Annotated[Caller, Depends(require_scope(Scope.ALERTS_READ))]
AlertsWrite = Annotated[Caller, Depends(require_scope(Scope.ALERTS_WRITE))]
AuditRead = Annotated[Caller, Depends(require_scope(Scope.AUDIT_READ))]
ClientsAdmin = Annotated[Caller, Depends(require_scope(Scope.CLIENTS_ADMIN))]
NetworkAdmin = Annotated[Caller, Depends(require_scope(Scope.NETWORK_ADMIN))]
