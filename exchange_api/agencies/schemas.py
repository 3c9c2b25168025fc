"""API models of the admin API: member agencies and the client systems they register."""

from __future__ import annotations

import json
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from exchange_api.auth.jose import MAX_CLIENT_KEYS, import_client_jwks
from exchange_api.auth.scopes import Scope
from exchange_api.kit.pagination import Page
from exchange_api.models.agencies import Agency, AgencyKind, Client
from exchange_api.reference.validators import CountryCode

__all__ = [
    "AgencyCreate",
    "AgencyDirectory",
    "AgencyEntry",
    "AgencyList",
    "AgencyRead",
    "ClientCreate",
    "ClientList",
    "ClientRead",
    "ClientRegistered",
    "TokenEndpointAuthMethod",
]

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _is_control(char: str) -> bool:
    # NUL is left to the engine's rule, one answer everywhere (400 unstorable-text).
    return char != "\x00" and unicodedata.category(char) == "Cc"


def _printable(value: str) -> str:
    """Refuse control and bidirectional-override characters in a display name.

    Agency and client names are shown to every member (the directory), printed by the command line
    and written to logs: a newline or an escape sequence would forge a log line or repaint a
    terminal, and a right-to-left override would make one agency's name read as another's.
    """
    if any(_is_control(char) or char in _BIDI_CONTROLS for char in value):
        raise ValueError("must not contain control or bidirectional-override characters")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]
TokenEndpointAuthMethod = Literal["private_key_jwt", "client_secret_basic"]


class AgencyCreate(BaseModel):
    """A member agency to register."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Unique, e.g. 'Dutch Customs (Douane)'.")
    country: CountryCode
    kind: AgencyKind


class AgencyEntry(BaseModel):
    """A member agency as every member sees it in the directory."""

    id: uuid.UUID
    name: str
    country: str
    kind: AgencyKind

    @classmethod
    def of_agency(cls, agency: Agency) -> AgencyEntry:
        return cls(id=agency.id, name=agency.name, country=agency.country, kind=agency.kind)


class AgencyDirectory(Page[AgencyEntry]):
    """One page of the directory, oldest first."""


class AgencyRead(AgencyEntry):
    """A member agency as the admin API shows it."""

    created_at: datetime

    @classmethod
    def of(cls, agency: Agency) -> AgencyRead:
        return cls(
            id=agency.id,
            name=agency.name,
            country=agency.country,
            kind=agency.kind,
            created_at=agency.created_at,
        )


class AgencyList(Page[AgencyRead]):
    """One page of agencies, oldest first."""


class ClientCreate(BaseModel):
    """A client system to register for an agency.

    ``private_key_jwt`` (the default, and the only method in production) needs the client's public
    keys as a JWKS: EC P-256, RSA ≥ 2048 bits or Ed25519, public members only.
    ``client_secret_basic`` (development) makes a secret, shown once in the answer.
    """

    model_config = ConfigDict(extra="forbid")

    agency_id: uuid.UUID
    name: Name
    scopes: list[Scope] = Field(min_length=1, description="Scopes the client may request.")
    token_endpoint_auth_method: TokenEndpointAuthMethod = "private_key_jwt"  # noqa: S105
    jwks: dict[str, Any] | None = Field(
        default=None,
        description=f'{{"keys": [...]}} with 1 to {MAX_CLIENT_KEYS} public signing keys.',
    )

    @field_validator("scopes")
    @classmethod
    def _distinct_scopes(cls, scopes: list[Scope]) -> list[Scope]:
        return sorted(set(scopes))

    @field_validator("jwks")
    @classmethod
    def _acceptable_jwks(cls, jwks: dict[str, Any] | None) -> dict[str, Any] | None:
        if jwks is None:
            return None
        keys = import_client_jwks(jwks)
        return {"keys": [key.as_dict(private=False) for key in keys]}

    @model_validator(mode="after")
    def _keys_match_method(self) -> Self:
        uses_keys = self.token_endpoint_auth_method == "private_key_jwt"  # noqa: S105
        if uses_keys and self.jwks is None:
            raise ValueError("private_key_jwt needs the client's public keys in jwks")
        if not uses_keys and self.jwks is not None:
            raise ValueError("client_secret_basic takes no jwks")
        return self


class ClientRead(BaseModel):
    client_id: str
    agency_id: uuid.UUID
    name: str
    scopes: list[str]
    token_endpoint_auth_method: TokenEndpointAuthMethod
    jwks: dict[str, Any] | None = Field(description="The registered public keys.")
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, client: Client) -> ClientRead:
        return cls(**_client_fields(client))


class ClientRegistered(ClientRead):
    """The registered client; for ``client_secret_basic``, the only time its secret is shown."""

    client_secret: str | None = Field(
        default=None, description="Shown once: only a hash of it is kept."
    )

    @classmethod
    def of_new(cls, client: Client, secret: str | None) -> ClientRegistered:
        return cls(**_client_fields(client), client_secret=secret)


def _client_fields(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "agency_id": client.agency_id,
        "name": client.name,
        "scopes": client.scopes.split(),
        "token_endpoint_auth_method": "private_key_jwt" if client.jwks else "client_secret_basic",
        "jwks": json.loads(client.jwks) if client.jwks else None,
        "created_at": client.created_at,
        "disabled_at": client.disabled_at,
    }


class ClientList(Page[ClientRead]):
    """One page of clients, by ``client_id``."""
