"""Webhooks over https to a real TLS receiver on 127.0.0.1, behind a certificate authority made
for the test and trusted through ``EXCHANGE_WEBHOOK_CA_FILE``. The URL names ``localhost`` (an
allowed host: it resolves to 127.0.0.1) and the certificate names only ``localhost``: the request
goes to the checked address, and the certificate is checked for the URL's host."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from exchange_api.config import Settings
from tests.alerts.builders import minimal_body
from tests.alerts.http import Desk, open_desk, push
from tests.auth_helpers import Serving
from tests.events.certificates import Authority
from tests.events.receiver import Receiver, free_port, receiving, verify_standard_webhook
from tests.events.test_webhooks import deliveries, subscribe, wait_for

TLS_HANDSHAKE = b"\x16"


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority.made("agency-ca")


@pytest.fixture
async def hooked(
    serving: Serving, authority: Authority, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Desk]]:
    async with serving(
        webhook_allow_hosts="localhost",
        webhook_first_retry=0.2,
        webhook_ca_file=authority.pem(tmp_path),
    ) as (client, registry):
        yield client, await open_desk(registry, client, "customs", "BE")


async def test_a_receiver_behind_a_private_ca_gets_signed_deliveries(
    hooked: tuple[httpx.AsyncClient, Desk], authority: Authority, tmp_path: Path
) -> None:
    client, customs = hooked
    receiver = Receiver(free_port(), tls=authority.server(tmp_path, "localhost"), host="localhost")
    with receiving(receiver):
        created = await subscribe(client, customs, receiver.url)
        alert = await push(client, customs, minimal_body())
        await wait_for(lambda: len(receiver.received) >= 1)
        for _ in range(200):
            log = await deliveries(client, customs, created["id"])
            if log[0]["state"] == "delivered":
                break
            await asyncio.sleep(0.05)
    [got] = receiver.received
    assert verify_standard_webhook(created["secret"], got.headers, got.body)
    assert json.loads(got.body)["alert_id"] == alert
    assert got.headers["host"] == f"localhost:{receiver.port}"
    assert receiver.openings == [TLS_HANDSHAKE]
    assert log[0]["state"] == "delivered"
    assert log[0]["last_status"] == 204


@pytest.mark.parametrize(
    ("names", "signer", "error"),
    [
        pytest.param(("receiver.test",), "agency-ca", "certificate-wrong-name", id="wrong-name"),
        pytest.param(("localhost",), "unknown-ca", "certificate-untrusted", id="untrusted-ca"),
    ],
)
async def test_a_refused_certificate_is_a_failed_delivery_and_nothing_is_sent(
    hooked: tuple[httpx.AsyncClient, Desk],
    authority: Authority,
    tmp_path: Path,
    names: tuple[str, ...],
    signer: str,
    error: str,
) -> None:
    client, customs = hooked
    issuer = authority if signer == authority.name else Authority.made(signer)
    receiver = Receiver(free_port(), tls=issuer.server(tmp_path, *names), host="localhost")
    with receiving(receiver):
        created = await subscribe(client, customs, receiver.url)
        await push(client, customs, minimal_body())
        # A second connection is a second attempt: the first one's outcome is recorded by then.
        await wait_for(lambda: len(receiver.openings) >= 2)
        [item] = await deliveries(client, customs, created["id"])
    assert (item["state"], item["last_status"], item["last_error"]) == ("pending", None, error)
    assert item["attempts"] >= 2
    assert receiver.received == []
    # Every connection opened with a TLS handshake: nothing was ever sent in clear.
    assert set(receiver.openings) == {TLS_HANDSHAKE}


def test_the_ca_file_adds_to_the_systems_authorities(authority: Authority, tmp_path: Path) -> None:
    system = ssl.create_default_context().cert_store_stats()["x509_ca"]
    settings = Settings(webhook_ca_file=authority.pem(tmp_path))
    assert settings.webhook_tls().cert_store_stats()["x509_ca"] == system + 1
    assert Settings().webhook_tls().cert_store_stats()["x509_ca"] == system


@pytest.mark.parametrize("content", [None, b"", b"not a certificate\n"])
def test_a_ca_file_that_holds_no_certificate_is_refused_at_start(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValidationError, match="EXCHANGE_WEBHOOK_CA_FILE must be a readable PEM"):
        Settings(webhook_ca_file=path)
