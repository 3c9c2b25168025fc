"""``exchange-api serve`` turns Nagle's algorithm off on the connections it accepts."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from uvicorn.server import ServerState

from exchange_api.http_protocol import NoDelayH11Protocol


async def _empty_app(scope: object, receive: object, send: object) -> None:
    return None


def _nodelay(transport: asyncio.BaseTransport) -> int:
    sock = transport.get_extra_info("socket")
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


async def test_accepted_connections_get_tcp_nodelay_on_a_socket_bound_as_uvicorn_does() -> None:
    # uvicorn's own bind for --workers > 1: proto 0, which asyncio leaves with Nagle on.
    listener = socket.socket(family=socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app=_empty_app, http=NoDelayH11Protocol, log_config=None)
    config.load()
    state = ServerState()
    protocols: list[NoDelayH11Protocol] = []
    accepted = asyncio.Event()

    def build() -> NoDelayH11Protocol:
        protocol = NoDelayH11Protocol(config, state, app_state={})
        protocols.append(protocol)
        accepted.set()
        return protocol

    server = await asyncio.get_running_loop().create_server(build, sock=listener)
    try:
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        await accepted.wait()
        await asyncio.sleep(0)  # connection_made runs right after the factory
        assert _nodelay(protocols[0].transport) == 1
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
