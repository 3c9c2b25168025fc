"""Client SDK of the precursor alert exchange.

:class:`Client` (blocking) and :class:`AsyncClient` (asyncio) sign in with ``private_key_jwt``
(optionally for an officer), hold DPoP-bound tokens and renew them, retry what is safe to retry,
iterate over every page of a list, and raise each API problem as its own exception
(:mod:`exchange_client.errors`). Results are the TypedDicts of :mod:`exchange_client.models`.
:mod:`exchange_client.audit_verify` checks an audit export offline. The ``exchange`` command is
:mod:`exchange_client.cli`.
"""

from exchange_client._core import JsonText, RetryPolicy
from exchange_client.audit_verify import AuditVerdict, verify_export
from exchange_client.client import AsyncClient, Client, settings_from_env
from exchange_client.errors import (
    ConfigurationError,
    ExchangeError,
    ProblemError,
    TokenRefused,
    UncertainOutcome,
    Unreachable,
)
from exchange_client.keys import SigningKey, load_signing_key

__all__ = [
    "AsyncClient",
    "AuditVerdict",
    "Client",
    "ConfigurationError",
    "ExchangeError",
    "JsonText",
    "ProblemError",
    "RetryPolicy",
    "SigningKey",
    "TokenRefused",
    "UncertainOutcome",
    "Unreachable",
    "load_signing_key",
    "settings_from_env",
    "verify_export",
]
