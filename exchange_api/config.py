"""The service's settings: one typed object, read from ``EXCHANGE_*`` environment variables.

It fails fast: a setting that cannot work (an unknown database scheme, a lifetime of zero) is
refused when the object is built, with a message that names the variable, not a traceback later.
The README's settings table lists every field here.
"""

from __future__ import annotations

import re
import ssl
import stat
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["Settings"]

_SUPPORTED_DRIVERS = {"sqlite", "postgresql+psycopg"}
#: ``N/second``, ``N/minute`` or ``N/hour`` (what the ``limits`` library parses, narrowed).
_LIMIT = re.compile(r"[1-9][0-9]{0,8}/(second|minute|hour)")
_LIMIT_STORES = ("memory://", "redis://", "rediss://")


def _webhook_trust(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context()  # the system's authorities, names checked
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=ca_file)
        except OSError:  # ssl.SSLError included: no certificate in it
            raise ValueError(
                "EXCHANGE_WEBHOOK_CA_FILE must be a readable PEM file of certificates"
            ) from None
    return context


class Settings(BaseSettings):
    """Every knob of the service. Field names map to ``EXCHANGE_<NAME>`` variables."""

    model_config = SettingsConfigDict(env_prefix="EXCHANGE_", extra="forbid", frozen=True)

    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start unless the issuer is https, DPoP is required, "
        "client secrets are off, the key directory is private and no demo client exists; it "
        "also turns the /docs page off.",
    )
    database_url: str = Field(
        default="sqlite:///./exchange.db",
        description="SQLAlchemy URL: sqlite:///… (default) or postgresql+psycopg://…",
    )
    keys_dir: Path = Field(default=Path("./keys"), description="Directory of key material.")
    issuer: str = Field(
        default="http://127.0.0.1:8000",
        description="OAuth2 issuer; also the access tokens' audience.",
    )
    access_token_lifetime: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="Lifetime of an access token, in seconds (short: there is no refresh).",
    )
    allow_client_secrets: bool = Field(
        default=True,
        description="Accept client_secret_basic (development); false leaves private_key_jwt only.",
    )
    require_dpop: bool = Field(
        default=False,
        description="FAPI 2.0 mode: issue and accept only DPoP-bound access tokens.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body accepted, in bytes."
    )
    log_level: str = Field(default="INFO", description="Log level of the JSON logs.")
    alert_review_years: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Default review period of an alert: review_by = detected_on + this many years.",
    )
    idempotency_key_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days an Idempotency-Key is remembered; then it may be used again.",
    )
    overdue_interval: int = Field(
        default=60,
        ge=0,
        le=86_400,
        description="Seconds between each worker's looks for requests that became overdue "
        "unanswered (each gets one `request.overdue` event); 0 turns the notices off.",
    )
    retention_interval: int = Field(
        default=3600,
        ge=0,
        le=86_400,
        description="Seconds between each worker's retention passes (shredding alerts past their "
        "review date), the first at start; 0 leaves it to `exchange-api retention run`.",
    )
    links_common_threshold: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="A value shared by more alerts than this is reported as common, not linked.",
    )
    audit_log_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Names the audit log in its signed checkpoints; default <issuer>/v1/audit. "
        "Set it once and keep it: checkpoints of another log id do not verify.",
    )
    audit_checkpoint_every: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Sign a checkpoint at every seq that is a multiple of this.",
    )
    audit_checkpoint_interval: int = Field(
        default=60,
        ge=1,
        le=86_400,
        description="Seconds after which new audit entries get a checkpoint even below the count.",
    )

    webhook_allow_hosts: str = Field(
        default="",
        max_length=2000,
        description="Comma-separated webhook hosts (as written in the URL) exempt from the "
        "address checks and allowed over http: for development and tests only.",
    )
    webhook_first_retry: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Seconds before a failed webhook delivery's first retry; later ones grow "
        "from it (x3, x6, x30, x90, x180, then x360 every time) for 24 hours.",
    )
    webhook_ca_file: Path | None = Field(
        default=None,
        description="A PEM file of certificate authorities trusted for webhook receivers besides "
        "the system's (a government or private CA).",
    )
    stats_min_cell: int = Field(
        default=5,
        ge=2,
        le=1000,
        description="Network-scope statistics leave out a cell counting fewer alerts than this "
        "(or from a single reporting agency) and count it in `suppressed`.",
    )
    emerging_min_alerts: int = Field(
        default=3,
        ge=2,
        le=1000,
        description="Early warning: the fewest alerts a substance needs to be reported; callers "
        "may ask for more, never fewer.",
    )
    emerging_min_agencies: int = Field(
        default=2,
        ge=2,
        le=1000,
        description="Early warning: the fewest reporting agencies a substance needs; callers may "
        "ask for more, never fewer (this keeps one agency's reports private).",
    )

    rate_limits: bool = Field(
        default=True, description="Enforce the rate limits below; false turns them all off."
    )
    rate_limit_client: str = Field(
        default="1200/minute", description="Every /v1 call of one client (N/second|minute|hour)."
    )
    rate_limit_address: str = Field(
        default="120/minute",
        description="Every /oauth/* request of one source address, before any work is done.",
    )
    rate_limit_guess: str = Field(
        default="300/hour",
        description="Searches by party= or document= (blind indexes) of one client.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the counters live: memory:// (one process) or redis://host:port/db "
        "(shared by every worker and machine).",
    )

    @field_validator("rate_limit_client", "rate_limit_address", "rate_limit_guess")
    @classmethod
    def _limit_form(cls, value: str, info: ValidationInfo) -> str:
        if not _LIMIT.fullmatch(value):
            name = f"EXCHANGE_{(info.field_name or '').upper()}"
            raise ValueError(f"{name} must be N/second, N/minute or N/hour, e.g. 600/minute")
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _limit_store(cls, value: str) -> str:
        if not value.startswith(_LIMIT_STORES):
            raise ValueError("EXCHANGE_RATE_LIMIT_STORAGE must be memory:// or redis://…")
        return value

    keyring: Literal["local", "pkcs11"] = Field(
        default="local",
        description="Where the KEKs live: key files in EXCHANGE_KEYS_DIR (local), or a PKCS#11 "
        "token (pkcs11; needs the hsm extra and the EXCHANGE_PKCS11_* settings).",
    )
    pkcs11_module: Path | None = Field(
        default=None, description="The PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)."
    )
    pkcs11_token_label: str | None = Field(
        default=None, max_length=32, description="The label of the token holding the KEKs."
    )
    pkcs11_pin: SecretStr | None = Field(
        default=None, description="The token's user PIN (or EXCHANGE_PKCS11_PIN_FILE)."
    )
    pkcs11_pin_file: Path | None = Field(
        default=None, description="A file holding the token's user PIN (mode 0600)."
    )

    @model_validator(mode="after")
    def _complete_pkcs11(self) -> Self:
        if self.keyring != "pkcs11":
            return self
        if self.pkcs11_module is None or not self.pkcs11_token_label:
            raise ValueError(
                "EXCHANGE_KEYRING=pkcs11 needs EXCHANGE_PKCS11_MODULE and "
                "EXCHANGE_PKCS11_TOKEN_LABEL"
            )
        if (self.pkcs11_pin is None) == (self.pkcs11_pin_file is None):
            raise ValueError(
                "EXCHANGE_KEYRING=pkcs11 needs one of EXCHANGE_PKCS11_PIN and "
                "EXCHANGE_PKCS11_PIN_FILE"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("EXCHANGE_DATABASE_URL is not a database URL") from exc
        if url.drivername not in _SUPPORTED_DRIVERS:
            raise ValueError(
                "EXCHANGE_DATABASE_URL must use sqlite:/// or postgresql+psycopg://, "
                f"not {url.drivername}://"
            )
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_is_origin(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or value.endswith("/"):
            raise ValueError("EXCHANGE_ISSUER must be an http(s) URL without a trailing slash")
        return value

    @field_validator("webhook_ca_file")
    @classmethod
    def _loadable_ca_file(cls, value: Path | None) -> Path | None:
        _webhook_trust(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("EXCHANGE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        """``EXCHANGE_ENV=production`` refuses what is only fit for development, each reason on
        its own line. (That no demo client exists is checked against the database at start:
        ``exchange_api.production``.)"""
        if self.env != "production":
            return self
        reasons = []
        if not self.issuer.startswith("https://"):
            reasons.append("EXCHANGE_ISSUER must be https:// in production")
        if not self.require_dpop:
            reasons.append("EXCHANGE_REQUIRE_DPOP must be true in production")
        if self.allow_client_secrets:
            reasons.append("EXCHANGE_ALLOW_CLIENT_SECRETS must be false in production")
        if self.keys_dir.exists() and stat.S_IMODE(self.keys_dir.stat().st_mode) & 0o077:
            reasons.append(
                f"EXCHANGE_KEYS_DIR ({self.keys_dir}) must be private in production: chmod 700"
            )
        if (self.keys_dir / "demo").exists():
            reasons.append(
                f"EXCHANGE_KEYS_DIR holds demo client keys ({self.keys_dir / 'demo'}): "
                "not in production"
            )
        if reasons:
            raise ValueError("\n".join(reasons))
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def database(self) -> URL:
        """The parsed database URL."""
        return make_url(self.database_url)

    @property
    def audit_log(self) -> str:
        """The audit log's id, as its checkpoints name it."""
        return self.audit_log_id or f"{self.issuer}/v1/audit"

    @property
    def webhook_allowed_hosts(self) -> frozenset[str]:
        """``webhook_allow_hosts`` as a set of lower-case host names."""
        return frozenset(
            host.strip().lower() for host in self.webhook_allow_hosts.split(",") if host.strip()
        )

    def webhook_tls(self) -> ssl.SSLContext:
        """How webhook receivers' certificates are checked: the system's certificate
        authorities, plus ``webhook_ca_file``'s."""
        return _webhook_trust(self.webhook_ca_file)

    @property
    def is_sqlite(self) -> bool:
        return self.database.get_backend_name() == "sqlite"
