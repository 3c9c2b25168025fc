"""The HTTP/1.1 protocol ``exchange-api serve`` runs: uvicorn's h11 protocol with TCP_NODELAY.

With ``--workers`` above 1, uvicorn binds the listening socket itself as ``socket(AF_INET)``,
whose ``proto`` is 0; asyncio sets TCP_NODELAY only on sockets whose ``proto`` is
``IPPROTO_TCP``, so every accepted connection keeps Nagle's algorithm on. uvicorn writes a
response's head and body separately, so on a keep-alive connection the body waits for the
client's delayed ACK: about 40 ms added to every request after the first (measured by the
benchmark: 44 ms for ``/healthz`` with 2 workers, 0.5 ms with this protocol).

It also tells the app when the server begins to shut down (:data:`SERVER_SHUTDOWN_HOOK`), so that
event streams end at once instead of holding the shutdown.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["SERVER_SHUTDOWN_HOOK", "NoDelayH11Protocol"]

SERVER_SHUTDOWN_HOOK = "exchange_api.server_shutdown"
"""Key, in the state the app's lifespan yields, of a callable run when the server begins to
shut down: uvicorn then waits for open responses to finish, and a stream never would by itself
(its connection is not told of the shutdown)."""


class NoDelayH11Protocol(H11Protocol):
    """h11 protocol that turns Nagle's algorithm off on each TCP connection it serves."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def shutdown(self) -> None:
        hook = self.app_state.get(SERVER_SHUTDOWN_HOOK)
        if callable(hook):
            hook()
        super().shutdown()
