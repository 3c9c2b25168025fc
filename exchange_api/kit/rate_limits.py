"""Rate limits, on the ``limits`` library: who may call how often, and the headers that say so.

Three limits, each a fixed window of ``N/second|minute|hour`` (docs/operations.md):

- ``client``: every ``/v1`` call of one client, counted once its token's signature verified
  (``exchange_api.auth.resource``) — before the DPoP replay cache and the database are touched;
- ``address``: every ``/oauth/*`` request of one source address (the ASGI peer: proxy headers are
  not trusted), counted by :class:`AddressRateLimitMiddleware` before the body is read, so a flood
  costs no argon2 and no signature check;
- ``guess``: blind-index searches (``party=``, ``document=``) of one client, and anything else that
  tests whether a value is in the exchange: :func:`limit_guesses` is the one function to call.

Counters live in the process (``memory://``, one machine) or in Redis (``redis://…``, shared by
every worker and machine), through ``limits``' asyncio API: counting runs on the event loop and
never takes a trip to a worker thread (the in-process store clears its windows in an asyncio task,
where the threaded one started a timer thread about once a request under load). Every answer
that counted against a limit carries ``RateLimit-Policy``
and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers-08, structured fields: ``"client";q=600;
w=60`` and ``"client";r=599;t=42``); a refusal is 429 ``rate-limited`` with ``Retry-After``.

If the store fails (Redis down), the ``client`` and ``address`` limits let the request through —
they protect capacity, and an outage of the store should not become an outage of the exchange —
but ``guess`` answers 503: it protects the blind indexes, and an unlimited guesser is what it is
there to stop. Either way one line per interval goes to the log, not one per request.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from exchange_api.config import Settings
from exchange_api.errors import ProblemError, ServiceUnavailable, problem_error_response
from exchange_api.kit.failures import FailureLog

__all__ = [
    "AddressRateLimitMiddleware",
    "LimitKind",
    "Quota",
    "RateLimited",
    "RateLimiter",
    "limit_client",
    "limit_guesses",
    "rate_limit_headers",
]

_STATE_KEY = "rate_limits"
_ADDRESS_PREFIX = "/oauth/"


class LimitKind(enum.StrEnum):
    CLIENT = "client"
    ADDRESS = "address"
    GUESS = "guess"


@dataclass(frozen=True, slots=True)
class Quota:
    """One limit as it stands after a request counted against it."""

    kind: LimitKind
    limit: int
    window: int
    remaining: int
    reset_after: int
    allowed: bool

    @property
    def policy_item(self) -> str:
        return f'"{self.kind.value}";q={self.limit};w={self.window}'

    @property
    def state_item(self) -> str:
        return f'"{self.kind.value}";r={self.remaining};t={self.reset_after}'


class RateLimited(ProblemError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, quota: Quota) -> None:
        super().__init__(
            f"Too many requests: the {quota.kind.value} limit is {quota.limit} per "
            f"{quota.window} s. Try again in {quota.reset_after} s.",
            headers={"Retry-After": str(quota.reset_after)},
        )


class RateLimitStoreUnavailable(ServiceUnavailable):
    slug = "rate-limit-store-unavailable"
    title = "Rate-limit store unavailable"


class RateLimiter:
    """The app's limits over one store (built once; shared by every request)."""

    def __init__(
        self,
        storage: Storage,
        items: dict[LimitKind, RateLimitItem],
        *,
        namespace: str,
        failures: FailureLog,
    ) -> None:
        self._strategy = FixedWindowRateLimiter(storage)
        self._items = items
        self._namespace = namespace
        self._failures = failures

    @classmethod
    def from_settings(cls, settings: Settings, failures: FailureLog) -> RateLimiter | None:
        """The configured limiter, or ``None`` when ``EXCHANGE_RATE_LIMITS=false``."""
        if not settings.rate_limits:
            return None
        # The settings allow memory:// and redis(s)://; their asyncio forms are async+….
        storage = storage_from_string(
            f"async+{settings.rate_limit_storage}", implementation="redispy", wrap_exceptions=True
        )
        assert isinstance(storage, Storage)
        items = {
            LimitKind.CLIENT: parse(settings.rate_limit_client),
            LimitKind.ADDRESS: parse(settings.rate_limit_address),
            LimitKind.GUESS: parse(settings.rate_limit_guess),
        }
        # Several deployments may share one Redis: their counters must not meet.
        return cls(storage, items, namespace=settings.issuer, failures=failures)

    async def hit(self, kind: LimitKind, identifier: str, cost: int = 1) -> Quota | None:
        """Count ``cost`` requests of ``identifier`` against ``kind``; ``None`` if the store
        failed (logged, throttled)."""
        item = self._items[kind]
        try:
            allowed = await self._strategy.hit(item, self._namespace, identifier, cost=cost)
            stats = await self._strategy.get_window_stats(item, self._namespace, identifier)
        except StorageError as exc:
            self._failures.failed(f"rate-limit store ({kind.value})", exc.storage_error)
            return None
        return Quota(
            kind=kind,
            limit=item.amount,
            window=item.get_expiry(),
            remaining=stats.remaining,
            reset_after=max(1, math.ceil(stats.reset_time - time.time())),
            allowed=allowed,
        )


def _limiter(app: Any) -> RateLimiter | None:
    limiter: RateLimiter | None = app.state.rate_limiter
    return limiter


def _enforce(state: dict[str, Any], quota: Quota | None) -> None:
    if quota is None:
        return
    state.setdefault(_STATE_KEY, []).append(quota)
    if not quota.allowed:
        raise RateLimited(quota)


async def limit_client(request: Request, client_id: str) -> None:
    """Count one ``/v1`` call of ``client_id`` (429 past the limit)."""
    limiter = _limiter(request.app)
    if limiter is not None:
        quota = await limiter.hit(LimitKind.CLIENT, client_id)
        _enforce(request.scope.setdefault("state", {}), quota)


async def limit_guesses(request: Request, client_id: str, count: int = 1) -> None:
    """Count ``count`` guesses at protected values (blind-index searches, watch-list entries)
    by ``client_id``: 429 past the limit, 503 if the store cannot say. Call it before the
    values are looked up."""
    limiter = _limiter(request.app)
    if limiter is None:
        return
    quota = await limiter.hit(LimitKind.GUESS, client_id, cost=count)
    if quota is None:
        raise RateLimitStoreUnavailable(
            "Searches by party or document are unavailable for a moment: try again later.",
            headers={"Retry-After": "5"},
        )
    _enforce(request.scope.setdefault("state", {}), quota)


def rate_limit_headers(state: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Policy`` and ``RateLimit`` for the limits this request counted against."""
    quotas: list[Quota] = state.get(_STATE_KEY) or []
    if not quotas:
        return []
    return [
        (b"ratelimit-policy", ", ".join(q.policy_item for q in quotas).encode("ascii")),
        (b"ratelimit", ", ".join(q.state_item for q in quotas).encode("ascii")),
    ]


class AddressRateLimitMiddleware:
    """Count every ``/oauth/*`` request against its source address, before anything else is
    done with it; past the limit, answer 429 at once."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        if (
            limiter is None
            or scope["type"] != "http"
            or not str(scope["path"]).startswith(_ADDRESS_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        quota = await limiter.hit(LimitKind.ADDRESS, address)
        try:
            _enforce(scope.setdefault("state", {}), quota)
        except RateLimited as refused:
            await problem_error_response(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
