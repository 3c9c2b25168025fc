"""The state one client keeps between calls, and the decisions on each answer, without I/O.

:class:`~exchange_client.Client` and :class:`~exchange_client.AsyncClient` differ only in how
they wait and send; everything they decide — which token, which headers, whether to renew,
retry or stop — is here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import httpx

from exchange_client._core import Call, RetryPolicy, retry_delay
from exchange_client.auth import Credentials, DPoPSigner, Token
from exchange_client.errors import ConfigurationError, TokenRefused, Unreachable

__all__ = ["Again", "Session"]

_TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 -- a path, not a secret
_NONCE_ERROR = re.compile(r'error="use_dpop_nonce"')
#: The token request, as a call, for the retry rules: asking again is always safe (each attempt
#: signs a new assertion), so it is replayable.
_TOKEN_CALL: Final[Call[Any]] = Call("POST", _TOKEN_PATH, lambda response: None)


@dataclass(frozen=True, slots=True)
class Again:
    """Send the call once more after ``delay`` seconds (``renew``: with a new token)."""

    delay: float
    renew: bool = False


class Session:
    """One client's configuration, token and DPoP state."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        dpop: DPoPSigner | None,
        retry: RetryPolicy,
        renew_margin: float,
    ) -> None:
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigurationError(f"the server URL must be http(s)://…, not {base_url!r}")
        self.base_url = base
        self.token_url = base + _TOKEN_PATH
        self.credentials = credentials
        self.dpop = dpop
        self.retry = retry
        self.renew_margin = renew_margin
        self.token: Token | None = None

    # The token endpoint.
    def token_request(self) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if self.dpop is not None:
            headers["DPoP"] = self.dpop.proof("POST", self.token_url)
        return httpx.Request(
            "POST",
            self.token_url,
            data=self.credentials.token_form(self.token_url),
            headers=headers,
        )

    def token_answer(self, response: httpx.Response, attempt: int) -> Again | Token:
        """A token, or when to ask again; raises :class:`TokenRefused`."""
        if (
            self._new_nonce(response)
            and response.status_code in (400, 401)
            and _oauth_error(response) == "use_dpop_nonce"
        ):
            return Again(0.0)
        delay = retry_delay(self.retry, _TOKEN_CALL, attempt, response=response)
        if delay is not None:
            return Again(delay)
        if response.status_code != 200:
            raise TokenRefused(
                response.status_code,
                _oauth_error(response) or "unexpected_answer",
                _oauth_description(response),
            )
        self.token = Token.from_answer(response.json(), self.renew_margin)
        return self.token

    def token_transport_error(self, error: httpx.TransportError, attempt: int) -> Again:
        delay = retry_delay(self.retry, _TOKEN_CALL, attempt, error=error)
        assert delay is not None
        return Again(delay)

    # API calls.
    def request(self, call: Call[Any], token: Token) -> httpx.Request:
        request = call.request(self.base_url, {"Authorization": token.authorization()})
        if self.dpop is not None and token.token_type.lower() == "dpop":
            request.headers["DPoP"] = self.dpop.proof(call.method, str(request.url), token.value)
        return request

    def answer(
        self, call: Call[Any], response: httpx.Response, attempt: int, *, renewed: bool
    ) -> Again | None:
        """Whether to send ``call`` again after ``response``; ``None`` when it is final."""
        new_nonce = self._new_nonce(response)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            if new_nonce and _NONCE_ERROR.search(challenge):
                return Again(0.0)
            if not renewed:
                # Expired early (clock skew), revoked, or the key rotated: one fresh token.
                self.token = None
                return Again(0.0, renew=True)
            return None
        delay = retry_delay(self.retry, call, attempt, response=response)
        return None if delay is None else Again(delay)

    def transport_error(self, call: Call[Any], error: httpx.TransportError, attempt: int) -> Again:
        delay = retry_delay(self.retry, call, attempt, error=error)
        assert delay is not None
        return Again(delay)

    def reconnect(self, call: Call[Any], attempt: int) -> Again:
        """When to open a stream again after it ended or dropped (``attempt``: how many times in
        a row it did so without a line); :class:`Unreachable` once that was every attempt."""
        if attempt >= self.retry.attempts:
            raise Unreachable(f"{call.method} {call.path}: the stream ended {attempt} times")
        return Again(self.retry.backoff_delay(attempt))

    def _new_nonce(self, response: httpx.Response) -> bool:
        if self.dpop is None:
            return False
        return self.dpop.remember_nonce(str(response.url), response.headers.get("DPoP-Nonce"))


def _oauth_field(response: httpx.Response, name: str) -> str | None:
    try:
        document = response.json()
    except ValueError:
        return None
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def _oauth_error(response: httpx.Response) -> str | None:
    return _oauth_field(response, "error")


def _oauth_description(response: httpx.Response) -> str | None:
    return _oauth_field(response, "error_description")
