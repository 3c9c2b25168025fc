"""A tiny webhook receiver on 127.0.0.1 for the tests (the standard library's http.server), over
http or https, and the Standard Webhooks verification written out independently of the
service's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    received: list[Received] = field(default_factory=list)
    answer: Callable[[Received], tuple[int, dict[str, str]]] = lambda _r: (204, {})
    tls: ssl.SSLContext | None = None
    """Serve https with this server context (its certificate and key)."""
    host: str = "127.0.0.1"
    """The host the URL names (it must resolve to 127.0.0.1)."""
    openings: list[bytes] = field(default_factory=list)
    """With ``tls``: the first byte each connection sent (0x16 opens a TLS handshake)."""

    @property
    def url(self) -> str:
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://{self.host}:{self.port}/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` on its port until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            if receiver.tls is not None:  # the handshake in this connection's own thread
                receiver.openings.append(self.request.recv(1, socket.MSG_PEEK))
                self.request = receiver.tls.wrap_socket(self.request, server_side=True)
            super().setup()

        def finish(self) -> None:
            super().finish()
            if receiver.tls is not None:  # the server closes only the socket it accepted
                self.request.close()

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            got = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            receiver.received.append(got)
            status, headers = receiver.answer(got)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            if not isinstance(sys.exc_info()[1], ssl.SSLError):  # a refused handshake is quiet
                super().handle_error(request, client_address)  # type: ignore[arg-type]

    server = Server(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check, as its specification writes it: the secret is base64 after
    ``whsec_``; the signed content is ``id.timestamp.body``; any ``v1,`` signature may match."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False
