"""A client we did not write: Authlib's own httpx clients get tokens and call the API."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import ECKey

from tests.auth_helpers import Registry
from tests.conftest import ISSUER

with warnings.catch_warnings():
    # Authlib's httpx integration prefers the `httpx2` package and says so on import; the plain
    # httpx it falls back to is what this project uses.
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncAssertionClient, AsyncOAuth2Client
    from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign

TOKEN_URL = f"{ISSUER}/oauth/token"


class FiveMinutePrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """Authlib's ``private_key_jwt``, with assertions valid for two minutes instead of its
    default hour: this server accepts at most five."""

    alg = "ES256"

    def sign(self, auth: Any, token_endpoint: str) -> str:
        assertion: str = private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            expires_in=120,
        )
        return assertion


def transport(app: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app)


async def test_authlib_oauth2_client_with_private_key_jwt(app: FastAPI, registry: Registry) -> None:
    agency = await registry.agency(kind="customs", scopes="alerts:read")
    async with AsyncOAuth2Client(
        client_id=agency.client_id,
        client_secret=agency.private_key,
        token_endpoint_auth_method=FiveMinutePrivateKeyJWT(TOKEN_URL),
        # aud = the token endpoint: the one audience (besides the issuer) this server accepts.
        revocation_endpoint_auth_method=FiveMinutePrivateKeyJWT(TOKEN_URL),
        scope="alerts:read",
        base_url=ISSUER,
        transport=transport(app),
    ) as oauth:
        token = await oauth.fetch_token(TOKEN_URL, grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        response = await oauth.get("/v1/substances", params={"q": "safrole"})
        assert response.status_code == 200, response.text
        assert "94-59-7" in [item["cas"] for item in response.json()["items"]]

        introspection = await oauth.introspect_token(
            f"{ISSUER}/oauth/introspect", token=token["access_token"]
        )
        assert introspection.json()["active"] is True
        revocation = await oauth.revoke_token(f"{ISSUER}/oauth/revoke", token=token["access_token"])
        assert revocation.status_code == 200
        refused = await oauth.get("/v1/substances")
        assert refused.status_code == 401


async def test_authlib_default_one_hour_assertion_is_refused(
    app: FastAPI, registry: Registry
) -> None:
    agency = await registry.agency()
    auth = PrivateKeyJWT(TOKEN_URL, alg="ES256")
    async with AsyncOAuth2Client(
        client_id=agency.client_id,
        client_secret=agency.private_key,
        token_endpoint_auth_method=auth,
        transport=transport(app),
    ) as oauth:
        with pytest.raises(OAuthError, match="invalid_client"):
            await oauth.fetch_token(TOKEN_URL, grant_type="client_credentials")


async def test_authlib_assertion_client_acts_for_an_officer(
    app: FastAPI, registry: Registry
) -> None:
    key = ECKey.generate_key("P-256")
    agency = await registry.agency(kind="law_enforcement", key=key)
    async with AsyncAssertionClient(
        token_endpoint=TOKEN_URL,
        issuer=agency.client_id,
        subject="NL-POLITIE-7781",
        audience=TOKEN_URL,
        key=key,
        alg="ES256",
        expires_in=120,
        scope="alerts:read",
        base_url=ISSUER,
        transport=transport(app),
    ) as oauth:
        response = await oauth.get("/v1/substances/103-79-7")
        assert response.status_code == 200, response.text
        assert oauth.token["token_type"] == "Bearer"
