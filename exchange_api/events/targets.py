"""Where a webhook may be sent: the SSRF checks, made after DNS resolution.

A webhook URL is chosen by a client, and the service then makes requests to it from inside its
network: without checks, a watch list could make the service call its own database, a cloud
metadata endpoint or an internal admin page. So (docs/decisions/0017):

- ``https`` only, no user information in the URL;
- the host is resolved, and **every** address it resolves to must be a public unicast address
  (not loopback, private, shared, link-local, multicast, reserved or unspecified; an IPv4-mapped
  IPv6 address is judged as the IPv4 address) — all of them, so that a name answering with one
  public and one private address is refused;
- the request then goes to the address that was checked (the URL's host stays in the ``Host``
  header and the TLS server name), so a DNS answer that changes between the check and the
  connection (DNS rebinding) is never used;
- redirects are not followed (each request is sent with ``allow_redirects=False``).

A host listed in ``EXCHANGE_WEBHOOK_ALLOW_HOSTS``, compared as written in the URL, skips the
address checks and may use ``http`` (development and tests: a receiver on 127.0.0.1).
The checks run when the watch list is created (422) and again before every delivery: a batch of
deliveries looks each host up once (:func:`lookup`), and every address found is checked right
before each request (:func:`checked_target`).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx

__all__ = [
    "Destination",
    "Target",
    "TargetRefused",
    "checked_target",
    "destination_of",
    "lookup",
    "resolve_target",
]


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why (never the address found)."""


@dataclass(frozen=True, slots=True)
class Target:
    url: httpx.URL
    """The URL to request: the checked address in place of the host."""
    host_header: str
    server_name: str


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


@dataclass(frozen=True, slots=True)
class Destination:
    """A webhook URL that passed the checks needing no resolution; its host still has to."""

    url: httpx.URL
    host: str
    port: int
    allowed: bool
    """The host is in ``EXCHANGE_WEBHOOK_ALLOW_HOSTS``: no address check."""


def destination_of(url: str, allowed_hosts: frozenset[str]) -> Destination:
    """``url``'s scheme, user information and host checked, or :class:`TargetRefused`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise TargetRefused("not a URL") from None
    host = parsed.host.lower()
    allowed = host in allowed_hosts
    if parsed.scheme != "https" and not (allowed and parsed.scheme == "http"):
        raise TargetRefused("only https URLs may receive webhooks")
    if not host or parsed.userinfo:
        raise TargetRefused("the URL needs a host and no user information")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return Destination(url=parsed, host=host, port=port, allowed=allowed)


def lookup(host: str, port: int) -> tuple[str, ...]:
    """The addresses ``host`` resolves to now (blocking), or :class:`TargetRefused`."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        # OSError, not only gaierror: a failure of the resolver itself (EAI_SYSTEM, e.g. out of
        # file descriptors) is raised as a plain OSError.
        raise TargetRefused("the host does not resolve") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in found))


def checked_target(destination: Destination, addresses: tuple[str, ...]) -> Target:
    """Where to send for ``destination`` whose host resolved to ``addresses``: every one of them
    checked (unless the host is allowed), the first one used; or :class:`TargetRefused`."""
    if not addresses:
        raise TargetRefused("the host does not resolve")
    if not destination.allowed and any(_refused_address(address) for address in addresses):
        raise TargetRefused(
            "the host resolves to a loopback, private, link-local or reserved address"
        )
    parsed, host, port = destination.url, destination.host, destination.port
    return Target(
        url=parsed.copy_with(host=addresses[0], port=port),
        host_header=host if parsed.port is None else f"{host}:{port}",
        server_name=host,
    )


def resolve_target(url: str, allowed_hosts: frozenset[str]) -> Target:
    """The address to send a webhook for ``url`` to, or :class:`TargetRefused` (blocking)."""
    destination = destination_of(url, allowed_hosts)
    return checked_target(destination, lookup(destination.host, destination.port))
