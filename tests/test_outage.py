"""A database outage: 503 with Retry-After (``temporarily_unavailable`` at the token endpoint),
one log line per kind of failure, and recovery without a restart.

The outage is real: the app reaches PostgreSQL through a TCP proxy in this test, which then cuts
every connection and refuses new ones — the shared server itself is never stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from exchange_api.app import create_app
from exchange_api.config import Settings
from tests.alerts.http import assert_problem
from tests.auth_helpers import TOKEN_PATH, Registry

T = TypeVar("T")


class CuttableProxy:
    """Forwards a loopback port to PostgreSQL until :meth:`cut`, then closes every connection
    and every new one at once, until :meth:`restore`. It runs on an event loop of its own, in
    a thread: the test's loop blocks whenever the test itself touches the database."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.open = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def cut(self) -> None:
        async def close_all() -> None:
            self.open = False
            for writer in list(self._writers):
                writer.close()

        self._call(close_all())

    def restore(self) -> None:
        self.open = True

    def stop(self) -> None:
        self.cut()
        self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while self.open and (chunk := await source.read(65536)):
                    sink.write(chunk)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@contextlib.contextmanager
def recorded_logs() -> Iterator[list[logging.LogRecord]]:
    """What the service logs meanwhile (its loggers do not propagate to the root)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    service_logger = logging.getLogger("exchange_api")
    service_logger.addHandler(handler)
    try:
        yield records
    finally:
        service_logger.removeHandler(handler)


@pytest.fixture
def proxy(database_url: str) -> Iterator[CuttableProxy]:
    url = make_url(database_url)
    running = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    yield running
    running.stop()


@pytest.mark.postgres_only
async def test_an_outage_is_503_logged_once_and_recovers(
    settings: Settings,
    database_url: str,
    proxy: CuttableProxy,
) -> None:
    proxied = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    app = create_app(settings.model_copy(update={"database_url": proxied}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as client:
            agency = await Registry(app).agency(scopes="alerts:read")
            headers = await agency.headers(client)
            assert (await client.get("/v1/substances", headers=headers)).status_code == 200

            proxy.cut()
            with recorded_logs() as records:
                for _ in range(5):
                    api = await client.get("/v1/substances", headers=headers)
                    assert_problem(api, 503, "service-unavailable")
                    assert int(api.headers["retry-after"]) > 0
                    token = await client.post(TOKEN_PATH, data=agency.token_form())
                    assert token.status_code == 503, token.text
                    assert token.json()["error"] == "temporarily_unavailable"
                    assert int(token.headers["retry-after"]) > 0
            # Ten failed requests: one line per kind of failure, no stack trace.
            failures = [r.event for r in records if r.getMessage() == "dependency failure"]  # type: ignore[attr-defined]
            assert failures, [r.getMessage() for r in records]
            assert len(failures) == len({event["failure"] for event in failures}), failures
            assert not [r for r in records if r.getMessage() == "unhandled exception"]

            proxy.restore()
            assert (await client.get("/v1/substances", headers=headers)).status_code == 200
            assert (await client.post(TOKEN_PATH, data=agency.token_form())).status_code == 200
