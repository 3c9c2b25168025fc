"""Walk the app's route table: every /v1 route answers 401 without a token and 403 with a token
lacking its scope — or, for the few on an explicit list that any member may read, accepts a
token of any one scope; every route outside /v1 is on a short, explicit list of public ones."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from exchange_api.auth.scopes import Scope
from tests.auth_helpers import Registry

#: Reachable without a token, on purpose. Anything else must live under /v1.
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("POST", "/oauth/introspect"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/jwks.json"),
}
#: Any valid token may call these, whatever its scopes (documented with an empty scope list).
ANY_SCOPE_ROUTES = {
    ("GET", "/v1/agencies"),
    ("GET", "/v1/agencies/{agency_id}"),
}
_PATH_PARAMETER = re.compile(r"\{[^}]+\}")
_WITH_BODY = {"POST", "PUT", "PATCH"}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """``(method, path)`` of every endpoint, with the prefixes of the routers that include it."""
    return [
        (method, str(context.path))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in sorted(context.methods or ())
    ]


def api_routes(app: FastAPI) -> list[tuple[str, str, str | None]]:
    """``(method, path, scope)`` of every /v1 route, the scope from the OpenAPI document (None
    for the routes of :data:`ANY_SCOPE_ROUTES`, and only for them)."""
    operations = app.openapi()["paths"]
    found = []
    for method, path in routes(app):
        if not path.startswith("/v1/"):
            continue
        security = operations[path][method.lower()].get("security")
        assert security is not None, (method, path)
        # Alternatives: the OAuth2 scheme naming the scope, or a bearer token (the docs page).
        assert len(security) == 2, (method, path, security)
        assert {"bearer": []} in security, (method, path, security)
        [scopes] = [entry["oauth2"] for entry in security if "oauth2" in entry]
        if (method, path) in ANY_SCOPE_ROUTES:
            assert scopes == [], (method, path, scopes)
            found.append((method, path, None))
            continue
        assert len(scopes) == 1, (method, path, scopes)
        found.append((method, path, scopes[0]))
    return found


def concrete(path: str) -> str:
    # Any value: authentication and the scope check come before parameters are validated.
    return _PATH_PARAMETER.sub("01900000-0000-7000-8000-000000000000", path)


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = {} if method in _WITH_BODY else None
    return await client.request(method, concrete(path), json=body, headers=headers)


async def test_every_route_outside_v1_is_deliberately_public(app: FastAPI) -> None:
    outside = {(method, path) for method, path in routes(app) if not path.startswith("/v1/")}
    assert outside == PUBLIC_ROUTES


async def test_every_v1_route_needs_a_token_and_its_scope(
    app: FastAPI, client: httpx.AsyncClient, registry: Registry
) -> None:
    routes = api_routes(app)
    assert ("GET", "/v1/substances", "alerts:read") in routes
    assert ("POST", "/v1/admin/clients/{client_id}/disable", "clients:admin") in routes
    all_scopes = {scope.value for scope in Scope}
    agency = await registry.agency(scopes=" ".join(sorted(all_scopes)))
    lacking = {
        scope: await agency.headers(client, scopes=" ".join(sorted(all_scopes - {scope})))
        for scope in all_scopes
    }

    assert {(method, path) for method, path, scope in routes if scope is None} == ANY_SCOPE_ROUTES
    only = {scope: await agency.headers(client, scopes=scope) for scope in all_scopes}

    for method, path, scope in routes:
        anonymous = await call(client, method, path, {})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["www-authenticate"].startswith("Bearer ")

        if scope is None:
            for headers in only.values():
                answer = await call(client, method, path, headers)
                assert answer.status_code in {200, 404}, (method, path, answer.text)
            continue
        unscoped = await call(client, method, path, lacking[scope])
        assert unscoped.status_code == 403, (method, path, unscoped.text)
        assert unscoped.json()["required_scope"] == scope
