"""The clients: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio), one surface.

    from exchange_client import Client

    with Client("https://exchange.example", "my-client-id", "agency.pem") as exchange:
        receipt = exchange.alerts.create(body)
        for alert in exchange.alerts.search(substance="103-79-7", origin="CN"):
            print(alert["id"], alert["route"])

Both take the same arguments and offer the same namespaces (``alerts``, ``followups``,
``requests``, ``directory``, ``events``, ``subscriptions``, ``substances``, ``audit``,
``admin``), whose methods have the same names and parameters; the async ones are
awaited, and their lists are ``async for`` iterators. What either decides on an answer lives in
:mod:`exchange_client._session`; here is only the sending and the waiting.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, TypeVar

import httpx

from exchange_client._core import Call, Page, RetryPolicy, raise_for_answer
from exchange_client._session import Session
from exchange_client._sse import ServerSentEvent, SseParser
from exchange_client.api.admin import Admin, AsyncAdmin
from exchange_client.api.alerts import Alerts, AsyncAlerts
from exchange_client.api.audit import AsyncAudit, Audit
from exchange_client.api.directory import AsyncDirectory, Directory
from exchange_client.api.events import AsyncEvents, Events
from exchange_client.api.followups import AsyncFollowUps, FollowUps
from exchange_client.api.requests import AsyncRequests, Requests
from exchange_client.api.subscriptions import AsyncSubscriptions, Subscriptions
from exchange_client.api.substances import AsyncSubstances, Substances
from exchange_client.auth import Credentials, DPoPSigner, Token
from exchange_client.errors import ConfigurationError
from exchange_client.keys import SigningKey, SigningKeyError, load_signing_key

__all__ = ["AsyncClient", "Client", "settings_from_env"]

T = TypeVar("T")
Item = TypeVar("Item")

#: Below uvicorn's keep-alive (5 s), so the client never reuses a connection the server is
#: closing — a request lost that way would look like a dropped connection.
_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=2.0)


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``url``, ``client_id``, ``key``, ``officer`` from ``EXCHANGE_URL``, ``EXCHANGE_CLIENT_ID``,
    ``EXCHANGE_KEY`` (a PEM or JWK file) and ``EXCHANGE_OFFICER``, those that are set."""
    env = os.environ if environ is None else environ
    names = {
        "url": "EXCHANGE_URL",
        "client_id": "EXCHANGE_CLIENT_ID",
        "key": "EXCHANGE_KEY",
        "officer": "EXCHANGE_OFFICER",
    }
    return {name: env[variable] for name, variable in names.items() if env.get(variable)}


def _session(
    url: str,
    client_id: str,
    key: SigningKey | str | Path | Mapping[str, Any],
    *,
    officer: str | None,
    scopes: str | None,
    dpop: bool,
    dpop_key: SigningKey | None,
    retry: RetryPolicy,
    renew_margin: float,
) -> Session:
    try:
        signing_key = key if isinstance(key, SigningKey) else load_signing_key(key)
    except SigningKeyError as exc:
        raise ConfigurationError(str(exc)) from None
    signer = DPoPSigner(dpop_key or SigningKey.generate()) if dpop else None
    credentials = Credentials(client_id, signing_key, officer=officer, scopes=scopes)
    return Session(url, credentials, dpop=signer, retry=retry, renew_margin=renew_margin)


class Client:
    """A blocking client. Thread-safe: one token is shared and renewed under a lock.

    ``key``: the client's private key (a :class:`SigningKey`, a JWK mapping, or a PEM/JWK file
    path). ``officer``: act for this officer (jwt-bearer grant). ``dpop=False`` asks for bearer
    tokens. ``renew_margin``: seconds before expiry to renew a token.
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        key: SigningKey | str | Path | Mapping[str, Any],
        *,
        officer: str | None = None,
        scopes: str | None = None,
        dpop: bool = True,
        dpop_key: SigningKey | None = None,
        retry: RetryPolicy | None = None,
        renew_margin: float = 30.0,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = _session(
            url,
            client_id,
            key,
            officer=officer,
            scopes=scopes,
            dpop=dpop,
            dpop_key=dpop_key,
            retry=retry or RetryPolicy(),
            renew_margin=renew_margin,
        )
        self._http = httpx.Client(timeout=timeout, transport=transport, limits=_LIMITS)
        self._lock = threading.Lock()
        self.alerts = Alerts(self)
        self.followups = FollowUps(self)
        self.requests = Requests(self)
        self.directory = Directory(self)
        self.events = Events(self)
        self.subscriptions = Subscriptions(self)
        self.substances = Substances(self)
        self.audit = Audit(self)
        self.admin = Admin(self)

    @property
    def base_url(self) -> str:
        return self._session.base_url

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def token(self) -> Token:
        """A token valid for a while yet: the current one, or a new one."""
        with self._lock:
            current = self._session.token
            if current is not None and current.fresh:
                return current
            attempt = 0
            while True:
                attempt += 1
                try:
                    response = self._http.send(self._session.token_request())
                    outcome = self._session.token_answer(response, attempt)
                except httpx.TransportError as error:
                    outcome = self._session.token_transport_error(error, attempt)
                if isinstance(outcome, Token):
                    return outcome
                time.sleep(outcome.delay)

    def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        attempt, renewed = 0, False
        while True:
            attempt += 1
            request = self._session.request(call, self.token())
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as error:
                time.sleep(self._session.transport_error(call, error, attempt).delay)
                continue
            again = self._session.answer(call, response, attempt, renewed=renewed)
            if again is None:
                return response
            response.close()
            renewed = renewed or again.renew
            time.sleep(again.delay)

    def call(self, call: Call[T]) -> T:
        """Run one operation: its typed result, or its problem raised as an exception."""
        response = self._send(call)
        raise_for_answer(response)
        return call.result(response)

    def iterate(self, call: Call[Page[Item]]) -> Iterator[Item]:
        """Every item of a list, page after page (following ``next_cursor``)."""
        while True:
            page = self.call(call)
            yield from page["items"]
            if page["next_cursor"] is None:
                return
            call = call.with_param("cursor", page["next_cursor"])

    def download(self, call: Call[Any], sink: IO[bytes]) -> httpx.Headers:
        """Stream the answer's body into ``sink``; the answer's headers."""
        response = self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise_for_answer(response)
            for chunk in response.iter_bytes():
                sink.write(chunk)
            return response.headers
        finally:
            response.close()

    def sse(self, call: Call[Any]) -> Iterator[ServerSentEvent]:
        """The events of a Server-Sent Events answer, without end: when the stream ends or
        drops, it is opened again with ``Last-Event-ID``, the id of the last event yielded."""
        last_id: str | None = None
        quiet = 0
        while True:
            resumed = call if last_id is None else call.with_header("Last-Event-ID", last_id)
            response = self._send(resumed, stream=True)
            try:
                if response.status_code >= 400:
                    response.read()
                    raise_for_answer(response)
                parser = SseParser()
                for line in response.iter_lines():
                    quiet = 0
                    for event in parser.feed(line):
                        last_id = event.id or last_id
                        yield event
            except httpx.TransportError:
                pass  # dropped: resume below
            finally:
                response.close()
            quiet += 1
            time.sleep(self._session.reconnect(call, quiet).delay)


class AsyncClient:
    """The asyncio twin of :class:`Client`: the same arguments, namespaces and methods."""

    def __init__(
        self,
        url: str,
        client_id: str,
        key: SigningKey | str | Path | Mapping[str, Any],
        *,
        officer: str | None = None,
        scopes: str | None = None,
        dpop: bool = True,
        dpop_key: SigningKey | None = None,
        retry: RetryPolicy | None = None,
        renew_margin: float = 30.0,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._session = _session(
            url,
            client_id,
            key,
            officer=officer,
            scopes=scopes,
            dpop=dpop,
            dpop_key=dpop_key,
            retry=retry or RetryPolicy(),
            renew_margin=renew_margin,
        )
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, limits=_LIMITS)
        self._lock = asyncio.Lock()
        self.alerts = AsyncAlerts(self)
        self.followups = AsyncFollowUps(self)
        self.requests = AsyncRequests(self)
        self.directory = AsyncDirectory(self)
        self.events = AsyncEvents(self)
        self.subscriptions = AsyncSubscriptions(self)
        self.substances = AsyncSubstances(self)
        self.audit = AsyncAudit(self)
        self.admin = AsyncAdmin(self)

    @property
    def base_url(self) -> str:
        return self._session.base_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def token(self) -> Token:
        """A token valid for a while yet: the current one, or a new one."""
        async with self._lock:
            current = self._session.token
            if current is not None and current.fresh:
                return current
            attempt = 0
            while True:
                attempt += 1
                try:
                    response = await self._http.send(self._session.token_request())
                    outcome = self._session.token_answer(response, attempt)
                except httpx.TransportError as error:
                    outcome = self._session.token_transport_error(error, attempt)
                if isinstance(outcome, Token):
                    return outcome
                await asyncio.sleep(outcome.delay)

    async def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        attempt, renewed = 0, False
        while True:
            attempt += 1
            request = self._session.request(call, await self.token())
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as error:
                await asyncio.sleep(self._session.transport_error(call, error, attempt).delay)
                continue
            again = self._session.answer(call, response, attempt, renewed=renewed)
            if again is None:
                return response
            await response.aclose()
            renewed = renewed or again.renew
            await asyncio.sleep(again.delay)

    async def call(self, call: Call[T]) -> T:
        """Run one operation: its typed result, or its problem raised as an exception."""
        response = await self._send(call)
        raise_for_answer(response)
        return call.result(response)

    async def iterate(self, call: Call[Page[Item]]) -> AsyncIterator[Item]:
        """Every item of a list, page after page (following ``next_cursor``)."""
        while True:
            page = await self.call(call)
            for item in page["items"]:
                yield item
            if page["next_cursor"] is None:
                return
            call = call.with_param("cursor", page["next_cursor"])

    async def download(self, call: Call[Any], sink: IO[bytes]) -> httpx.Headers:
        """Stream the answer's body into ``sink``; the answer's headers."""
        response = await self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise_for_answer(response)
            async for chunk in response.aiter_bytes():
                sink.write(chunk)
            return response.headers
        finally:
            await response.aclose()

    async def sse(self, call: Call[Any]) -> AsyncIterator[ServerSentEvent]:
        """The events of a Server-Sent Events answer, without end: when the stream ends or
        drops, it is opened again with ``Last-Event-ID``, the id of the last event yielded."""
        last_id: str | None = None
        quiet = 0
        while True:
            resumed = call if last_id is None else call.with_header("Last-Event-ID", last_id)
            response = await self._send(resumed, stream=True)
            try:
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_answer(response)
                parser = SseParser()
                async for line in response.aiter_lines():
                    quiet = 0
                    for event in parser.feed(line):
                        last_id = event.id or last_id
                        yield event
            except httpx.TransportError:
                pass  # dropped: resume below
            finally:
                await response.aclose()
            quiet += 1
            await asyncio.sleep(self._session.reconnect(call, quiet).delay)
