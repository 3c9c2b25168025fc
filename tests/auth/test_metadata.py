"""RFC 8414 metadata and the JWKS: what clients and other resource servers discover."""

from __future__ import annotations

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.auth_helpers import Registry
from tests.conftest import ISSUER


async def test_metadata_describes_this_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.json() == {
        "issuer": ISSUER,
        "token_endpoint": f"{ISSUER}/oauth/token",
        "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
        "revocation_endpoint": f"{ISSUER}/oauth/revoke",
        "introspection_endpoint": f"{ISSUER}/oauth/introspect",
        "response_types_supported": [],
        "grant_types_supported": [
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        "scopes_supported": [
            "alerts:read",
            "alerts:write",
            "audit:read",
            "clients:admin",
            "network:admin",
        ],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256", "EdDSA", "Ed25519"],
        "revocation_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "revocation_endpoint_auth_signing_alg_values_supported": [
            "ES256",
            "PS256",
            "EdDSA",
            "Ed25519",
        ],
        "introspection_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "introspection_endpoint_auth_signing_alg_values_supported": [
            "ES256",
            "PS256",
            "EdDSA",
            "Ed25519",
        ],
        "dpop_signing_alg_values_supported": ["ES256", "PS256", "EdDSA", "Ed25519"],
    }


async def test_jwks_is_public_and_verifies_issued_tokens(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    document = (await client.get("/.well-known/jwks.json")).json()
    [key] = document["keys"]
    assert {"d", "p", "q"}.isdisjoint(key)
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["use"] == "sig"
    assert key["alg"] == "ES256"
    keys = KeySet.import_key_set(document)
    assert key["kid"] == keys.keys[0].thumbprint()

    agency = await registry.agency()
    token = (await agency.token(client))["access_token"]
    verified = jwt.decode(token, keys, algorithms=["ES256"])
    assert verified.header["kid"] == key["kid"]
