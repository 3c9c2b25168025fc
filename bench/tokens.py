"""Real access tokens for the load: ``private_key_jwt`` client credentials (RFC 7523).

The benchmark registers its own client with a fresh P-256 key (or uses a demo client's key) and
each simulated client asks the token endpoint for its own access token, with a single-use signed
assertion, renewing it before it expires. Nothing here verifies tokens: the server does.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

__all__ = ["ClientKey", "TokenSource", "generate_client_key"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RENEW_MARGIN_S = 30.0


@dataclass(frozen=True)
class ClientKey:
    """What a client needs to authenticate: its id, its private key (PEM) and the key's id."""

    client_id: str
    private_pem: bytes
    kid: str
    scope: str

    def to_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "private_pem": self.private_pem.decode("ascii"),
            "kid": self.kid,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClientKey:
        return cls(
            client_id=str(data["client_id"]),
            private_pem=str(data["private_pem"]).encode("ascii"),
            kid=str(data["kid"]),
            scope=str(data["scope"]),
        )


def generate_client_key(directory: Path) -> tuple[bytes, str, Path]:
    """A new P-256 key: its private PEM, its kid, and a JWKS file of its public half to register."""
    key = ECKey.generate_key("P-256", private=True)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "alg": "ES256", "use": "sig"}
    jwks_path = directory / "bench-client.jwks.json"
    jwks_path.write_text(json.dumps({"keys": [public]}), encoding="utf-8")
    return key.as_pem(private=True), kid, jwks_path


class TokenSource:
    """One simulated client's access token, fetched on first use and renewed before expiry."""

    def __init__(self, client_key: ClientKey, token_url: str) -> None:
        self._client_key = client_key
        self._key = ECKey.import_key(client_key.private_pem)
        self._token_url = token_url
        self._token: str | None = None
        self._renew_at = 0.0

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self._client_key.client_id,
            "sub": self._client_key.client_id,
            "aud": self._token_url,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
        }
        header = {"alg": "ES256", "kid": self._client_key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key)

    async def authorization(self, http: httpx.AsyncClient) -> str:
        """The ``Authorization`` header value, fetching a new token when needed."""
        if self._token is None or time.monotonic() >= self._renew_at:
            response = await http.post(
                self._token_url,
                data={
                    "grant_type": "client_credentials",
                    "scope": self._client_key.scope,
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": self._assertion(),
                },
            )
            if response.status_code != 200:
                raise RuntimeError(
                    f"token endpoint answered {response.status_code}: {response.text[:300]}"
                )
            body = response.json()
            self._token = f"{body.get('token_type', 'Bearer')} {body['access_token']}"
            lifetime = float(body.get("expires_in", 300))
            self._renew_at = time.monotonic() + max(lifetime - RENEW_MARGIN_S, lifetime / 2)
        return self._token
