"""What the authorization server's endpoints take and answer, for the OpenAPI document.

The endpoints read their form bodies themselves (an OAuth error must be RFC 6749 JSON, never a
422), so the ``*Form`` models here only describe those bodies.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuthorizationServerMetadata",
    "IntrospectionForm",
    "IntrospectionResponse",
    "JsonWebKeySet",
    "OAuthErrorBody",
    "RevocationForm",
    "TokenRequestForm",
    "TokenResponse",
]


_AssertionType = Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]


class _ClientAuthenticationForm(BaseModel):
    client_assertion_type: _AssertionType | None = Field(
        default=None, description="For private_key_jwt (RFC 7523 §2.2)."
    )
    client_assertion: str | None = Field(
        default=None,
        description="A JWT signed by the client: iss = sub = client_id, aud = the issuer or the "
        "token endpoint, exp at most 5 minutes ahead, a jti never used before.",
    )
    client_id: str | None = Field(default=None, description="Optional; must match the client.")


class TokenRequestForm(_ClientAuthenticationForm):
    """Body of ``POST /oauth/token`` (``application/x-www-form-urlencoded``)."""

    grant_type: Literal["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
    scope: str | None = Field(
        default=None,
        description="Space-separated scopes, all registered for the client; default: all of them.",
    )
    assertion: str | None = Field(
        default=None,
        description="jwt-bearer only: a JWT signed by the client's key, iss = client_id, "
        "sub = the officer's id (becomes the token's sub).",
    )


class RevocationForm(_ClientAuthenticationForm):
    """Body of ``POST /oauth/revoke`` (RFC 7009)."""

    token: str
    token_type_hint: str | None = None


class IntrospectionForm(_ClientAuthenticationForm):
    """Body of ``POST /oauth/introspect`` (RFC 7662)."""

    token: str
    token_type_hint: str | None = None


class TokenResponse(BaseModel):
    access_token: str = Field(description="A JWT (RFC 9068, typ at+jwt, ES256).")
    token_type: Literal["Bearer", "DPoP"]
    expires_in: int
    scope: str


class OAuthErrorBody(BaseModel):
    """An RFC 6749 §5.2 error: what the authorization server answers, not problem+json."""

    error: str = Field(
        description="invalid_request, invalid_client, invalid_grant, unauthorized_client, "
        "unsupported_grant_type, invalid_scope or invalid_dpop_proof."
    )
    error_description: str


class IntrospectionResponse(BaseModel):
    """RFC 7662 §2.2: ``{"active": false}``, or the token's claims."""

    model_config = ConfigDict(extra="forbid")

    active: bool
    iss: str | None = None
    aud: str | None = None
    sub: str | None = None
    client_id: str | None = None
    agency: str | None = None
    scope: str | None = None
    jti: str | None = None
    iat: int | None = None
    exp: int | None = None
    token_type: Literal["Bearer", "DPoP"] | None = None
    cnf: dict[str, str] | None = None


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]]


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    response_types_supported: list[str]
    grant_types_supported: list[str]
    scopes_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_signing_alg_values_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_signing_alg_values_supported: list[str]
    dpop_signing_alg_values_supported: list[str]
