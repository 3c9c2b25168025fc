"""Agencies with real clients, real keys and real tokens, for every domain's tests.

``registry.agency(...)`` registers an agency and a ``private_key_jwt`` client through the agencies
service (real rows, a real EC P-256 key); ``TestAgency.headers(client)`` then gets a real token
from ``POST /oauth/token`` — nothing is forged, so a test that passes with these headers passes
through the whole authorization server::

    agency = await registry.agency(kind="customs", scopes="alerts:read")
    response = await client.get("/v1/substances", headers=await agency.headers(client))

    # acting for an officer (JWT-bearer grant), or with a narrower scope
    headers = await agency.headers(client, officer="NL-DOUANE-0042", scopes="alerts:read")

    # DPoP-bound: every request needs a fresh proof
    bound = await agency.headers(client, dpop=True)
    headers = agency.proof_headers(bound, "GET", "/v1/substances")
    response = await client.get("/v1/substances", headers=headers)
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from exchange_api.agencies import service
from exchange_api.agencies.authority import COMMAND_LINE
from exchange_api.agencies.schemas import AgencyCreate, ClientCreate
from exchange_api.audit.recorder import AuditIdentity, AuditRecorder
from exchange_api.auth.jose import b64url_sha256
from exchange_api.auth.scopes import Scope
from exchange_api.models.agencies import AgencyKind

__all__ = [
    "ASSERTION_TYPE",
    "JWT_BEARER",
    "TOKEN_PATH",
    "Registry",
    "Serving",
    "SigningKey",
    "TestAgency",
    "dpop_proof",
    "in_seconds",
    "sign",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/oauth/token"

SigningKey = ECKey | RSAKey | OKPKey
_ALG_OF_KEY = {"EC": "ES256", "RSA": "PS256", "OKP": "Ed25519"}


class in_seconds:  # noqa: N801 (reads as a value: claims={"exp": in_seconds(-120)})
    """A time claim relative to when the JWT is made, not to when a test module was imported."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __int__(self) -> int:
        return int(time.time()) + self.offset


def _resolved(claims: Mapping[str, Any]) -> dict[str, Any]:
    return {k: int(v) if isinstance(v, in_seconds) else v for k, v in claims.items()}


def sign(
    key: SigningKey, claims: Mapping[str, Any], header: Mapping[str, Any] | None = None
) -> str:
    """A JWS over ``claims`` (no ``typ`` unless ``header`` gives one), by a key of ours."""
    full_header = {"alg": _ALG_OF_KEY[key.key_type], **(header or {})}
    return jwt.encode(
        full_header, _resolved(claims), key, algorithms=[full_header["alg"]], default_type=None
    )


def dpop_proof(
    key: SigningKey,
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    claims: Mapping[str, Any] | None = None,
    header: Mapping[str, Any] | None = None,
) -> str:
    """A fresh DPoP proof (RFC 9449 §4.2) for ``method`` ``url``; ``claims``/``header`` override."""
    body: dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        body["ath"] = b64url_sha256(access_token)
    body.update(claims or {})
    return sign(key, body, {"typ": "dpop+jwt", "jwk": key.as_dict(private=False), **(header or {})})


@dataclass
class TestAgency:
    """A registered agency with one ``private_key_jwt`` client whose private key we hold."""

    __test__ = False  # not a test class, despite its name

    id: uuid.UUID
    kind: AgencyKind
    client_id: str
    private_key: SigningKey
    issuer: str
    dpop_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256"))

    @property
    def token_url(self) -> str:
        return self.issuer + TOKEN_PATH

    def assertion(
        self,
        *,
        subject: str | None = None,
        lifetime: int = 60,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
    ) -> str:
        """A client-signed JWT: client assertion, or JWT-bearer grant if ``subject`` (officer)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.client_id,
            "sub": subject or self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }
        body.update(claims or {})
        return sign(self.private_key, body, header)

    def token_form(
        self, *, scopes: str | None = None, officer: str | None = None
    ) -> dict[str, str]:
        """The form of a token request: client credentials, or the officer's JWT-bearer grant."""
        if officer is not None:
            form = {"grant_type": JWT_BEARER, "assertion": self.assertion(subject=officer)}
        else:
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(),
            }
        if scopes is not None:
            form["scope"] = scopes
        return form

    async def token(
        self,
        client: httpx.AsyncClient,
        *,
        scopes: str | None = None,
        officer: str | None = None,
        dpop: bool = False,
    ) -> dict[str, Any]:
        """The token endpoint's successful answer (fails the test otherwise)."""
        headers = {"DPoP": dpop_proof(self.dpop_key, "POST", self.token_url)} if dpop else {}
        response = await client.post(
            TOKEN_PATH, data=self.token_form(scopes=scopes, officer=officer), headers=headers
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def headers(
        self,
        client: httpx.AsyncClient,
        *,
        scopes: str | None = None,
        officer: str | None = None,
        dpop: bool = False,
    ) -> dict[str, str]:
        """``Authorization`` for a fresh token. With ``dpop=True`` the token is bound to
        :attr:`dpop_key` and each request also needs :meth:`proof_headers`."""
        answer = await self.token(client, scopes=scopes, officer=officer, dpop=dpop)
        return {"Authorization": f"{answer['token_type']} {answer['access_token']}"}

    def proof_headers(self, headers: Mapping[str, str], method: str, url: str) -> dict[str, str]:
        """``headers`` plus a fresh DPoP proof for ``method`` ``url`` (a path or a full URL)."""
        token = headers["Authorization"].split(" ", 1)[1]
        full_url = self.issuer + url if url.startswith("/") else url
        proof = dpop_proof(self.dpop_key, method, full_url, access_token=token)
        return {**headers, "DPoP": proof}


class Registry:
    """Registers agencies and their clients in the app's database, as the admin API would."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._numbers = itertools.count(1)

    async def agency(
        self,
        kind: str = "law_enforcement",
        country: str = "NL",
        scopes: str = "alerts:read alerts:write",
        name: str | None = None,
        *,
        key: SigningKey | None = None,
    ) -> TestAgency:
        """A new agency of ``kind`` with a ``private_key_jwt`` client holding ``scopes``."""
        private_key = key or ECKey.generate_key("P-256")
        number = next(self._numbers)
        agency_name = name or f"Test {kind} agency {number} {uuid.uuid4().hex[:6]}"
        with self.app.state.session_factory.begin() as session:
            # The fixture's setup is not what the tests audit: its entries are collected by a
            # real recorder and not submitted, so that each test's log holds its own actions.
            audit = AuditRecorder.acting_as(
                self.app.state.audit_log, session, AuditIdentity(actor="operator:tests")
            )
            agency = service.register_agency(
                session,
                AgencyCreate(name=agency_name, country=country, kind=AgencyKind(kind)),
                audit,
            )
            registered = service.register_client(
                session,
                ClientCreate(
                    agency_id=agency.id,
                    name=f"{agency_name} system",
                    scopes=[Scope(scope) for scope in scopes.split()],
                    jwks={"keys": [private_key.as_dict(private=False)]},
                ),
                audit,
                COMMAND_LINE,
                secrets_allowed=True,
            )
            client_id = registered.client.client_id
            agency_id = agency.id
        return TestAgency(
            id=agency_id,
            kind=AgencyKind(kind),
            client_id=client_id,
            private_key=private_key,
            issuer=self.app.state.oauth.issuer,
        )


#: The ``serving`` fixture: ``async with serving(**settings_changes) as (client, registry)``.
Serving = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, Registry]]]
