"""The authorization server's configuration, built once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends, Request
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from exchange_api.auth.client_secrets import SECRET_HASHER
from exchange_api.auth.tokens import AccessTokenAuthority, signing_key_overlap
from exchange_api.config import Settings
from exchange_api.crypto.signing_keys import TokenSigningKeys

__all__ = [
    "INTROSPECTION_PATH",
    "JWKS_PATH",
    "METADATA_PATH",
    "REVOCATION_PATH",
    "TOKEN_PATH",
    "OAuthServer",
    "OAuthServerDep",
    "get_oauth_server",
]

TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path)
REVOCATION_PATH = "/oauth/revoke"
INTROSPECTION_PATH = "/oauth/introspect"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True, slots=True)
class OAuthServer:
    """Issuer, token keys and policy switches of this authorization server."""

    issuer: str
    authority: AccessTokenAuthority
    allow_client_secrets: bool
    require_dpop: bool
    session_factory: sessionmaker[Session]
    """For what must be recorded outside the request's transaction (DPoP replay cache)."""
    secret_hasher: PasswordHasher = field(default=SECRET_HASHER)
    """What verifies client secrets (argon2id): the costly step a flood must not reach."""

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: sessionmaker[Session]
    ) -> OAuthServer:
        """The keys are read from ``settings.keys_dir`` (already checked at start-up) and looked
        at again while the server runs, for a rotated signing key."""
        lifetime = settings.access_token_lifetime
        signing_keys = TokenSigningKeys(settings.keys_dir, overlap=signing_key_overlap(lifetime))
        authority = AccessTokenAuthority(signing_keys, issuer=settings.issuer, lifetime=lifetime)
        return cls(
            issuer=settings.issuer,
            authority=authority,
            allow_client_secrets=settings.allow_client_secrets,
            require_dpop=settings.require_dpop,
            session_factory=session_factory,
        )

    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def token_endpoint(self) -> str:
        return self.url(TOKEN_PATH)

    @property
    def assertion_audiences(self) -> list[str]:
        """What a client-signed JWT's ``aud`` may be: the issuer or the token endpoint."""
        return [self.issuer, self.token_endpoint]


def get_oauth_server(request: Request) -> OAuthServer:
    server: OAuthServer = request.app.state.oauth
    return server


OAuthServerDep = Annotated[OAuthServer, Depends(get_oauth_server)]
