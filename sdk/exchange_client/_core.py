"""What both clients share, without I/O: a call, the retry rules, requests and answers.

A :class:`Call` says what one API operation sends and how its answer becomes a typed result; the
domain modules (``exchange_client/api/``) build calls, and :class:`~exchange_client.Client` and
:class:`~exchange_client.AsyncClient` run them. Retrying follows one rule set (:func:`retry_delay`):

- an answer of 429 or 503 is retried after ``Retry-After`` (capped), else after a backoff: the
  server did nothing with the request;
- a connection that could not be opened is retried: nothing was sent;
- a connection dropped after the request went out is retried only when the call is
  ``replayable`` — a read, or a POST whose endpoint replays an ``Idempotency-Key`` (creating an
  alert, one or a batch) — and is an :class:`~exchange_client.errors.UncertainOutcome`
  otherwise. Every POST carries an ``Idempotency-Key`` made once per call, so all attempts of one
  call share it, and the server answers a resent create with the first answer
  (``Idempotent-Replayed: true``) instead of storing it twice.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any, Generic, Protocol, TypedDict, TypeVar

import httpx

from exchange_client._sse import ServerSentEvent
from exchange_client.errors import UncertainOutcome, Unreachable, raise_problem

__all__ = [
    "AsyncRunner",
    "Call",
    "JsonText",
    "Page",
    "RetryPolicy",
    "SyncRunner",
    "as_json",
    "encode_json",
    "new_idempotency_key",
    "no_result",
    "query",
    "raise_for_answer",
    "retry_delay",
]

T = TypeVar("T")
Item = TypeVar("Item")

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Page(TypedDict, Generic[Item]):
    """One page of any list: ``next_cursor`` is ``None`` on the last."""

    items: list[Item]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class JsonText:
    """A JSON value already encoded (a line of an NDJSON file as read): sent as it is.

    Re-encoding a parsed body only spends the client's CPU: the server hashes a body's value, not
    its spelling, for its ``Idempotency-Key`` check, so the same value is the same request.
    """

    text: str


def encode_json(value: Any) -> str:
    """A body's JSON text: compact, UTF-8 left as it is; a :class:`JsonText` unchanged."""
    if isinstance(value, JsonText):
        return value.text
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def new_idempotency_key() -> str:
    return f"sdk-{uuid.uuid4()}"


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API operation: what to send, and how its (successful) answer becomes ``T``."""

    method: str
    path: str
    result: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    replayable: bool = True
    """May be sent again after a connection dropped mid-request (see the module docstring)."""

    @classmethod
    def post(
        cls,
        path: str,
        result: Callable[[httpx.Response], T],
        body: Any,
        *,
        idempotency_key: str | None = None,
        replays_idempotency_key: bool = False,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Call[T]:
        """A POST with an ``Idempotency-Key`` (a fresh one unless given).

        ``replays_idempotency_key=True`` only for an endpoint that answers a repeated key with
        its first answer: any other POST is not resent once it may have reached the server.
        """
        key = idempotency_key or new_idempotency_key()
        return cls(
            "POST",
            path,
            result,
            body=body,
            headers=(("Idempotency-Key", key), *headers),
            replayable=replays_idempotency_key,
        )

    def with_param(self, name: str, value: str | None) -> Call[T]:
        kept = tuple((k, v) for k, v in self.params if k != name)
        return replace(self, params=kept if value is None else (*kept, (name, value)))

    def with_header(self, name: str, value: str) -> Call[T]:
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))

    def request(self, base_url: str, headers: Mapping[str, str]) -> httpx.Request:
        content = None
        all_headers = {**dict(self.headers), **headers}
        if self.body is not None:
            content = encode_json(self.body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return httpx.Request(
            self.method,
            base_url + self.path,
            params=list(self.params),
            content=content,
            headers=all_headers,
        )


def query(**filters: object) -> tuple[tuple[str, str], ...]:
    """Query parameters from keyword filters: ``None`` left out, lists repeated."""
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        params.extend((name, str(item)) for item in values)
    return tuple(params)


def as_json(response: httpx.Response) -> Any:
    """The answer's JSON; the call's type says which TypedDict of :mod:`exchange_client.models`
    it is (the server's OpenAPI document, which ``tests/sdk/test_models.py`` holds them to)."""
    return response.json()


def no_result(response: httpx.Response) -> None:
    return None


def raise_for_answer(response: httpx.Response) -> None:
    """Raise the problem of an error answer as its exception class; nothing for a success."""
    if response.status_code < 400:
        return
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {"title": response.reason_phrase, "status": response.status_code}
    raise_problem(document, response.status_code)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry (see the module docstring)."""

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 10.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter (``attempt`` counts from 1)."""
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))  # noqa: S311


def retry_delay(
    policy: RetryPolicy,
    call: Call[Any],
    attempt: int,
    *,
    response: httpx.Response | None = None,
    error: httpx.TransportError | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` to stop retrying.

    Raises :class:`Unreachable` / :class:`UncertainOutcome` for a transport error that may not
    or can no longer be retried.
    """
    if error is not None:
        sent = not isinstance(error, _NOT_SENT)
        if sent and not call.replayable:
            raise UncertainOutcome(
                f"{call.method} {call.path}: the connection dropped after the request was sent; "
                "it may have been carried out, and this endpoint cannot replay it"
            ) from error
        if attempt >= policy.attempts:
            raise Unreachable(f"{call.method} {call.path}: {error!r} after {attempt} attempts")
        return policy.backoff_delay(attempt)
    assert response is not None
    if response.status_code not in policy.statuses or attempt >= policy.attempts:
        return None
    return _retry_after(response.headers.get("Retry-After"), policy) or policy.backoff_delay(
        attempt
    )


def _retry_after(value: str | None, policy: RetryPolicy) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, policy.max_retry_after))


class SyncRunner(Protocol):
    """What a domain module needs of :class:`~exchange_client.Client`."""

    def call(self, call: Call[T]) -> T: ...

    def iterate(self, call: Call[Page[Item]]) -> Iterator[Item]: ...

    def download(self, call: Call[Any], sink: IO[bytes]) -> httpx.Headers: ...

    def sse(self, call: Call[Any]) -> Iterator[ServerSentEvent]: ...


class AsyncRunner(Protocol):
    """What a domain module needs of :class:`~exchange_client.AsyncClient`."""

    def call(self, call: Call[T]) -> Awaitable[T]: ...

    def iterate(self, call: Call[Page[Item]]) -> AsyncIterator[Item]: ...

    def download(self, call: Call[Any], sink: IO[bytes]) -> Awaitable[httpx.Headers]: ...

    def sse(self, call: Call[Any]) -> AsyncIterator[ServerSentEvent]: ...
