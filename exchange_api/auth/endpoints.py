"""The authorization server's HTTP endpoints: token, revocation, introspection, metadata, keys.

They read their ``application/x-www-form-urlencoded`` bodies themselves and answer errors as
RFC 6749 §5.2 JSON (see :mod:`exchange_api.auth.errors`). No token is needed to reach them; the
token, revocation and introspection endpoints authenticate the *client* instead.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from exchange_api.audit.recorder import AuditDep
from exchange_api.auth import service
from exchange_api.auth.errors import OAuthError, oauth_error_response
from exchange_api.auth.jose import CLIENT_SIGNING_ALGORITHMS
from exchange_api.auth.schemas import (
    AuthorizationServerMetadata,
    IntrospectionForm,
    IntrospectionResponse,
    JsonWebKeySet,
    OAuthErrorBody,
    RevocationForm,
    TokenRequestForm,
    TokenResponse,
)
from exchange_api.auth.scopes import Scope
from exchange_api.auth.server import (
    INTROSPECTION_PATH,
    JWKS_PATH,
    METADATA_PATH,
    REVOCATION_PATH,
    TOKEN_PATH,
    OAuthServerDep,
)
from exchange_api.auth.service import ClientRequest
from exchange_api.kit.dependencies import SessionDep

__all__ = ["router"]

router = APIRouter(tags=["oauth"])

_FORM_TYPE = "application/x-www-form-urlencoded"
_MAX_FORM_FIELDS = 20
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "RFC 6749 §5.2 error."},
    401: {"model": OAuthErrorBody, "description": "Client authentication failed (invalid_client)."},
}


def _form_body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {_FORM_TYPE: {"schema": schema}}}}


def _parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], str | None]:
    """The form's parameters, or why it cannot be read (RFC 6749 §3.2: each at most once)."""
    if content_type.split(";")[0].strip().lower() != _FORM_TYPE:
        return {}, f"The body must be {_FORM_TYPE}."
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        return {}, "The form body is malformed or has too many fields."
    if any(count > 1 for count in Counter(name for name, _ in pairs).values()):
        return {}, "A parameter appears more than once."
    return dict(pairs), None


async def read_client_request(request: Request) -> ClientRequest:
    """The form, ``Authorization`` and ``DPoP`` headers of a request to the endpoints below."""
    form, problem = _parse_form(request.headers.get("content-type", ""), await request.body())
    return ClientRequest(
        form=form,
        form_problem=problem,
        authorization=request.headers.get("authorization"),
        dpop_proofs=request.headers.getlist("dpop"),
    )


ClientRequestDep = Annotated[ClientRequest, Depends(read_client_request)]


@router.post(
    TOKEN_PATH,
    response_model=TokenResponse,
    responses=_OAUTH_ERRORS,
    openapi_extra=_form_body(TokenRequestForm),
)
def token(
    request: ClientRequestDep, session: SessionDep, server: OAuthServerDep, audit: AuditDep
) -> Response:
    """Issue an access token (RFC 6749 §4.4 client credentials, RFC 7523 JWT bearer).

    With a `DPoP` proof header (RFC 9449) the token is bound to the proof's key: `token_type` is
    `DPoP`, and every API call must then carry a fresh proof by that key.
    """
    try:
        issued = service.handle_token_request(session, server, request, audit)
    except OAuthError as error:
        return oauth_error_response(error)
    answer = TokenResponse(
        access_token=issued.token,
        token_type="DPoP" if issued.bound_to is not None else "Bearer",
        expires_in=issued.expires_in,
        scope=issued.scope,
    )
    return JSONResponse(answer.model_dump(), headers=_NO_STORE)


@router.post(
    REVOCATION_PATH,
    status_code=200,
    responses={200: {"description": "Revoked, or nothing to revoke."}, **_OAUTH_ERRORS},
    openapi_extra=_form_body(RevocationForm),
)
def revoke(
    request: ClientRequestDep, session: SessionDep, server: OAuthServerDep, audit: AuditDep
) -> Response:
    """Revoke one of the client's own access tokens (RFC 7009). Takes effect at once."""
    try:
        service.revoke_token(session, server, request, audit)
    except OAuthError as error:
        return oauth_error_response(error)
    return Response(status_code=200, headers=_NO_STORE)


@router.post(
    INTROSPECTION_PATH,
    response_model=IntrospectionResponse,
    response_model_exclude_none=True,
    responses=_OAUTH_ERRORS,
    openapi_extra=_form_body(IntrospectionForm),
)
def introspect(
    request: ClientRequestDep, session: SessionDep, server: OAuthServerDep, audit: AuditDep
) -> Response:
    """Say whether an access token is active, and what it says (RFC 7662).

    A client may introspect its own tokens; a client holding `network:admin` (the network
    operator's), any.
    Each question is audited (`token.introspect`).
    """
    try:
        answer = service.introspect_token(session, server, request, audit)
    except OAuthError as error:
        return oauth_error_response(error)
    return JSONResponse(answer, headers=_NO_STORE)


@router.get(METADATA_PATH, response_model=AuthorizationServerMetadata)
def metadata(server: OAuthServerDep) -> AuthorizationServerMetadata:
    """Authorization server metadata (RFC 8414)."""
    auth_methods = ["private_key_jwt"]
    if server.allow_client_secrets:
        auth_methods.append("client_secret_basic")
    algorithms = list(CLIENT_SIGNING_ALGORITHMS)
    return AuthorizationServerMetadata(
        issuer=server.issuer,
        token_endpoint=server.url(TOKEN_PATH),
        jwks_uri=server.url(JWKS_PATH),
        revocation_endpoint=server.url(REVOCATION_PATH),
        introspection_endpoint=server.url(INTROSPECTION_PATH),
        response_types_supported=[],
        grant_types_supported=[service.GRANT_CLIENT_CREDENTIALS, service.GRANT_JWT_BEARER],
        scopes_supported=[scope.value for scope in Scope],
        token_endpoint_auth_methods_supported=auth_methods,
        token_endpoint_auth_signing_alg_values_supported=algorithms,
        revocation_endpoint_auth_methods_supported=auth_methods,
        revocation_endpoint_auth_signing_alg_values_supported=algorithms,
        introspection_endpoint_auth_methods_supported=auth_methods,
        introspection_endpoint_auth_signing_alg_values_supported=algorithms,
        dpop_signing_alg_values_supported=algorithms,
    )


@router.get(JWKS_PATH, response_model=JsonWebKeySet)
def jwks(server: OAuthServerDep) -> Response:
    """The public keys that verify this server's access tokens."""
    return JSONResponse(server.authority.jwks(), headers={"Cache-Control": "max-age=300"})
