"""Resource protection: the one dependency that turns a request into its :class:`Caller`.

The ``/v1`` router depends on :func:`current_caller` as a whole, so no endpoint under it can be
reached without a valid token; scopes are then checked per endpoint by the aliases of
:mod:`exchange_api.auth.scopes`. What it demands, in order:

1. exactly one ``Authorization`` header, scheme ``Bearer`` or ``DPoP`` (RFC 6750 §2.1, RFC 9449
   §7.1). Tokens in the query string or the body are never looked at;
2. an access token that :meth:`AccessTokenAuthority.verify` accepts (signature, ``typ``, claims);
   the call then counts against its client's rate limit (429 past it);
3. for a DPoP-bound token (``cnf.jkt``): the ``DPoP`` scheme and a fresh proof by that key for this
   method and URL, carrying the token's hash; its ``jti`` is recorded in the replay cache in a
   transaction of its own, committed at once, so that a proof stays spent even if the request
   then fails. A bound token sent as ``Bearer`` is refused, and so is an unbound token when
   ``EXCHANGE_REQUIRE_DPOP=true``;
4. the token's state: the client still exists and is not disabled, the token was not revoked,
   and the agency the token names is the client's — plus the agency's kind, for the caller. One
   indexed lookup, kept by the worker on PostgreSQL until a change is notified
   (:mod:`~exchange_api.auth.token_states`).

Answers that go on reading after the request began (the event stream, a long poll) ask
:func:`caller_now` before each further read: steps 2 and 4 again, so a token that expires, is
revoked or loses its client ends them at the next read.

Every refusal is 401 problem+json with a ``WWW-Authenticate`` challenge (``Bearer`` and ``DPoP``,
or ``DPoP`` alone in FAPI 2.0 mode) carrying the RFC 6750 / RFC 9449 error code. Once the token's
signature is verified, its ``client_id`` goes into the request state for the access log.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from exchange_api.auth import repository
from exchange_api.auth.caller import Caller
from exchange_api.auth.dpop import InvalidDPoPProof, single_dpop_header, verify_dpop_proof
from exchange_api.auth.errors import InvalidAuthorizationRequest, Unauthenticated
from exchange_api.auth.jose import CLIENT_SIGNING_ALGORITHMS
from exchange_api.auth.server import OAuthServer, get_oauth_server
from exchange_api.auth.token_states import TokenStates
from exchange_api.auth.tokens import AccessTokenClaims, InvalidAccessToken
from exchange_api.kit.dependencies import SessionDep
from exchange_api.kit.rate_limits import limit_client

__all__ = ["REALM", "CallerDep", "caller_now", "challenge", "current_caller"]

REALM = "exchange-api"
_SCHEMES = frozenset({"bearer", "dpop"})


def challenge(
    server: OAuthServer,
    *,
    error: str | None = None,
    description: str | None = None,
    on_dpop: bool = False,
    scope: str | None = None,
) -> str:
    """The ``WWW-Authenticate`` value: a ``Bearer`` and a ``DPoP`` challenge (only ``DPoP`` when
    DPoP is required), the error parameters on the scheme the failure concerns."""
    bearer = [f'realm="{REALM}"']
    dpop = [f'realm="{REALM}"', f'algs="{" ".join(CLIENT_SIGNING_ALGORITHMS)}"']
    target = dpop if on_dpop or server.require_dpop else bearer
    if error is not None:
        target.append(f'error="{error}"')
    if description is not None:
        target.append(f'error_description="{_quotable(description)}"')
    if scope is not None:
        target.append(f'scope="{scope}"')
    challenges = [] if server.require_dpop else ["Bearer " + ", ".join(bearer)]
    challenges.append("DPoP " + ", ".join(dpop))
    return ", ".join(challenges)


def _quotable(text: str) -> str:
    return "".join("'" if ch in '"\\' else ch for ch in text if ch.isprintable() and ch.isascii())


def _invalid_token(server: OAuthServer, description: str, *, on_dpop: bool) -> Unauthenticated:
    header = challenge(server, error="invalid_token", description=description, on_dpop=on_dpop)
    return Unauthenticated(description, headers={"WWW-Authenticate": header})


def _invalid_proof(server: OAuthServer, description: str) -> Unauthenticated:
    header = challenge(server, error="invalid_dpop_proof", description=description, on_dpop=True)
    return Unauthenticated(
        description,
        slug="invalid-dpop-proof",
        title="Invalid DPoP proof",
        headers={"WWW-Authenticate": header},
    )


def _credentials(request: Request, server: OAuthServer) -> tuple[str, str]:
    """``(scheme, token)`` of the request's one Authorization header."""
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        header = challenge(server, error="invalid_request", description="One Authorization only.")
        raise InvalidAuthorizationRequest(
            "Send one Authorization header.", headers={"WWW-Authenticate": header}
        )
    scheme, _, token = values[0].partition(" ") if values else ("", "", "")
    scheme, token = scheme.lower(), token.strip()
    if scheme not in _SCHEMES or not token:
        raise Unauthenticated(
            "An access token is required (Authorization: Bearer or DPoP).",
            slug="missing-token",
            title="Authentication required",
            headers={"WWW-Authenticate": challenge(server)},
        )
    return scheme, token


def _expected_url(request: Request, server: OAuthServer) -> str:
    """The URL a DPoP proof must name: the issuer's origin and the path as the client sent it."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else request.url.path
    return server.url(path)


def _check_binding(
    request: Request, server: OAuthServer, scheme: str, token: str, claims: AccessTokenClaims
) -> None:
    if claims.bound_to is None:
        if scheme == "dpop":
            raise _invalid_token(
                server, "The access token is not DPoP-bound: send it as Bearer.", on_dpop=True
            )
        if server.require_dpop:
            raise _invalid_token(
                server, "Only DPoP-bound access tokens are accepted.", on_dpop=True
            )
        return
    if scheme != "dpop":
        raise _invalid_token(
            server, "The access token is DPoP-bound: send it with the DPoP scheme.", on_dpop=True
        )
    try:
        value = single_dpop_header(request.headers.getlist("dpop"))
        if value is None:
            raise InvalidDPoPProof("A DPoP proof is required with a DPoP-bound token.")
        proof = verify_dpop_proof(
            value, method=request.method, url=_expected_url(request, server), access_token=token
        )
    except InvalidDPoPProof as exc:
        raise _invalid_proof(server, str(exc)) from None
    if proof.key_thumbprint != claims.bound_to:
        raise _invalid_proof(server, "The DPoP proof is signed by another key than the token's.")
    if not repository.claim_dpop_proof_at_once(server.session_factory, proof):
        raise _invalid_proof(server, "The DPoP proof was used before.")


async def current_caller(request: Request, session: SessionDep) -> Caller:
    """Authenticate the request (see the module docstring) and say who is calling.

    ``async``: the checks that wait on nothing (the token's signature and claims, an unbound
    token's scheme) and the rate limit (an asyncio store) run on the event loop; what waits on
    the database goes to a worker thread, only when it is needed."""
    server = get_oauth_server(request)
    scheme, token = _credentials(request, server)
    claims = _verified(server, scheme, token)
    request.state.client_id = claims.client_id
    # Counted once the client is known for sure, before the replay cache and the database.
    await limit_client(request, claims.client_id)
    if claims.bound_to is None:
        _check_binding(request, server, scheme, token, claims)  # refuses or passes: no I/O
    else:
        await run_in_threadpool(_check_binding, request, server, scheme, token, claims)
    # After the replay cache's own transaction: on SQLite, the request's transaction holds the
    # write lock from its first statement on.
    caller = await _caller_now(request, session, server, claims)
    request.state.caller = caller  # for the audit records of this request, refusals included
    return caller


async def caller_now(request: Request) -> Caller:
    """The caller of ``request`` as its token makes it *now*, for answers that go on reading
    after the request began (an event stream, a long poll): asked before each read after the
    first, so that an expiry, a revocation, a disabled client or a changed agency kind takes
    effect on the next read, not at the next request.

    The token is checked again as :func:`current_caller` checks it — signature and claims
    (expiry included), then its state — and 401 :class:`Unauthenticated` if it is no longer
    good. The rate limit and a DPoP proof belonged to the request itself and are not asked
    again (the proof's ``jti`` is spent)."""
    server = get_oauth_server(request)
    scheme, token = _credentials(request, server)
    claims = _verified(server, scheme, token)
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        caller = await _caller_now(request, session, server, claims)
    finally:
        # Shielded: a stream is cancelled when its client goes, and on SQLite a session that
        # asked the database holds the write lock until it is closed.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(session.close)
    request.state.caller = caller
    return caller


def _verified(server: OAuthServer, scheme: str, token: str) -> AccessTokenClaims:
    try:
        return server.authority.verify(token)
    except InvalidAccessToken as exc:
        raise _invalid_token(server, str(exc), on_dpop=scheme == "dpop") from None


async def _caller_now(
    request: Request, session: Session, server: OAuthServer, claims: AccessTokenClaims
) -> Caller:
    """The caller ``claims`` make given the token's state now; 401 if that state refuses it.
    On PostgreSQL the worker's token states answer without a query, and forget what any change
    to clients, agencies or revocations touched before the next lookup (auth/token_states.py)."""
    states: TokenStates = request.app.state.token_states
    state = await states.lookup(session, client_id=claims.client_id, token_id=claims.token_id)
    bound = claims.bound_to is not None
    if state is None:
        raise _invalid_token(server, "The client of this access token is gone.", on_dpop=bound)
    reason = state.inactive_reason(claims.agency_id, claims.issued_at)
    if reason is not None:
        raise _invalid_token(server, reason, on_dpop=bound)
    return Caller(
        subject=claims.subject,
        client_id=claims.client_id,
        agency_id=claims.agency_id,
        agency_kind=state.agency_kind,
        scopes=claims.scopes,
        token_id=claims.token_id,
    )


CallerDep = Annotated[Caller, Depends(current_caller)]
