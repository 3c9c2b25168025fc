"""Fixtures of the OAuth2 tests: the server's own signing key (to forge tokens that only one
check should stop), and assertions on refusals."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey

from exchange_api.crypto import load_key_material
from exchange_api.errors import PROBLEM_MEDIA_TYPE


@pytest.fixture
def server_key(keys_dir: Path) -> ECKey:
    """The private key that signs this server's access tokens."""
    key = load_key_material(keys_dir).token_signing_key
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ECKey.import_key(pem)


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> str:
    """An RFC 6749 §5.2 error answer; returns its description."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error, body
    return str(body["error_description"])


def assert_unauthorized(
    response: httpx.Response, error: str = "invalid_token", slug: str = "invalid-token"
) -> str:
    """A 401 problem+json with a WWW-Authenticate challenge naming ``error``; returns detail."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == f"urn:exchange-api:problem:{slug}", body
    challenge = response.headers["www-authenticate"]
    assert f'error="{error}"' in challenge, challenge
    return str(body["detail"])
