"""A real server on loopback for the SDK: uvicorn in its own process, on the test database.

``exchange_server(**env)`` starts ``exchange-api serve`` with extra settings (a short token
lifetime, another issuer) and gives a :class:`Live`: its URL and ``register()``, which adds an
agency and a ``private_key_jwt`` client through the operator's command line, with a key of the
kind asked for written to a PEM file, as an agency would hold it.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tests.conftest import Cli

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Registered:
    agency_id: str
    client_id: str
    key_path: Path


@dataclass
class Live:
    url: str
    port: int
    cli: Cli
    directory: Path
    process: subprocess.Popen[bytes]

    def register(
        self, kind: str = "customs", scopes: str = "alerts:read alerts:write", key: str = "EC"
    ) -> Registered:
        """A new agency with a client whose private key is in a PEM file (mode 0600)."""
        private = {
            "EC": lambda: ECKey.generate_key("P-256", private=True),
            "RSA": lambda: RSAKey.generate_key(2048, private=True),
            "OKP": lambda: OKPKey.generate_key("Ed25519", private=True),
        }[key]()
        stem = self.directory / f"client-{len(list(self.directory.glob('*.pem')))}"
        key_path = stem.with_suffix(".pem")
        key_path.write_bytes(private.as_pem(private=True))
        key_path.chmod(0o600)
        jwks = stem.with_suffix(".jwks.json")
        jwks.write_text(json.dumps({"keys": [private.as_dict(private=False)]}))
        name = f"SDK test {kind} {stem.name} {os.urandom(3).hex()}"
        added = self.cli("agencies", "add", "--name", name, "--country", "NL", "--kind", kind)
        assert added.returncode == 0, added.stderr
        agency_id = json.loads(added.stdout)["id"]
        client = self.cli(
            "clients", "add", "--agency", agency_id, "--scopes", scopes, "--jwks", str(jwks)
        )
        assert client.returncode == 0, client.stderr
        return Registered(agency_id, json.loads(client.stdout)["client_id"], key_path)


ServerFactory = Callable[..., Live]


@pytest.fixture
def exchange_server(
    database_url: str, keys_dir: Path, cli: Cli, tmp_path: Path
) -> Iterator[ServerFactory]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(port: int | None = None, issuer: str | None = None, **settings: str) -> Live:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "EXCHANGE_DATABASE_URL": database_url,
            "EXCHANGE_KEYS_DIR": str(keys_dir),
            "EXCHANGE_ISSUER": issuer or url,
            "EXCHANGE_RETENTION_INTERVAL": "0",
            "EXCHANGE_LOG_LEVEL": "WARNING",
            **{f"EXCHANGE_{name.upper()}": value for name, value in settings.items()},
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "exchange_api.cli", "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server did not start"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)
        return Live(url=issuer or url, port=port, cli=cli, directory=tmp_path, process=process)

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


class Proxy(http.server.ThreadingHTTPServer):
    """A loopback proxy in front of the server that misbehaves on purpose.

    ``plan(method, path, seen)`` says what to do with each request (``seen``: how many requests
    for that method and path came before): ``"forward"``; ``"503"`` (answer 503 itself, send
    nothing on); ``"drop"`` (forward, then close the connection without the answer);
    ``"hold"`` (forward, then keep the answer until the test ends — the client is killed meanwhile);
    ``"never"`` (do not forward; hold the connection). Every request is kept in ``requests`` as
    ``(method, path, headers)``, and ``held`` is set once a request is held.
    """

    def __init__(self, plan: Callable[[str, str, int], str]) -> None:
        self.plan = plan
        self.upstream = ""
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.held = threading.Event()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", free_port()), _ProxyHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: Proxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = self.path.split("?")[0]
        with self.server.lock:
            seen = sum(1 for m, p, _ in self.server.requests if (m, p) == (self.command, path))
            self.server.requests.append((self.command, path, dict(self.headers.items())))
        action = self.server.plan(self.command, path, seen)
        if action == "503":
            self._answer(
                503,
                {"Retry-After": "0", "Content-Type": "application/problem+json"},
                b'{"type":"urn:exchange-api:problem:service-unavailable","status":503}',
            )
            return
        if action == "never":
            self.server.held.set()
            time.sleep(120)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        answer = httpx.request(
            self.command,
            self.server.upstream + self.path,
            headers=headers,
            content=body,
            timeout=60,
        )
        if action == "drop":
            self.close_connection = True
            return
        if action == "hold":
            self.server.held.set()
            time.sleep(120)
            return
        kept = {
            name: value
            for name, value in answer.headers.items()
            if name.lower() not in ("transfer-encoding", "connection", "content-length")
        }
        self._answer(answer.status_code, kept, answer.content)

    def _answer(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_DELETE = _handle  # noqa: N815


@pytest.fixture
def proxied_server(exchange_server: ServerFactory) -> Iterator[Callable[..., tuple[Live, Proxy]]]:
    """``start(plan)``: a live server whose issuer is a :class:`Proxy` in front of it."""
    proxies: list[Proxy] = []

    def start(plan: Callable[[str, str, int], str]) -> tuple[Live, Proxy]:
        proxy = Proxy(plan)
        live = exchange_server(issuer=proxy.url)
        proxy.upstream = f"http://127.0.0.1:{live.port}"
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        proxies.append(proxy)
        return live, proxy

    yield start
    for proxy in proxies:
        proxy.shutdown()
        proxy.server_close()
