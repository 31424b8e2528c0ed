"""aiohttp's connector for deliveries, checking every address at connection time (SSRF, DNS rebinding).

The deliverer posts with aiohttp (it keeps up where httpx was the bottleneck: bench/README.md) and
keeps :mod:`core.guarded_transport`'s guarantee, with the same address policy
(:func:`core.targets.first_forbidden`). Two checks, both at connection time:

* the **resolver** resolves a name once and refuses it outright when any of its addresses is
  loopback, private, link-local or otherwise not public (an attacker cannot mix a public and a
  private answer and hope for the private one); aiohttp connects only to the addresses it returned;
* the **socket factory** checks the very address each socket is opened to. aiohttp does not ask the
  resolver about IP literals, and this is the last step before ``connect``, so nothing reaches a
  forbidden address whatever path led to it (a cached answer, a literal, a fallback address).

TLS still verifies the certificate (and sends SNI) for the name in the URL: aiohttp passes the URL's
host as ``server_hostname`` while the socket goes to the checked address.
"""

from __future__ import annotations

import socket
import ssl

import aiohttp
import certifi
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp.abc import AbstractResolver, ResolveResult

from core.guarded_transport import AsyncResolver, system_resolver
from core.targets import first_forbidden, forbidden_address_reason


class ForbiddenTargetAddress(OSError):
    """The target's name or address, at connection time, is one deliveries may not reach."""

    def __init__(self, host: str, reason: str) -> None:
        self.host, self.reason = host, reason
        super().__init__(f"target host {host!r} now resolves to {reason}; deliveries go to public addresses only, "
                         "so nothing was sent. Point the subscription at a public URL.")


class GuardedResolver(AbstractResolver):
    """Resolves with ``resolver`` and refuses a name if any address it resolves to is not allowed."""

    def __init__(self, *, allow_loopback: bool, resolver: AsyncResolver = system_resolver) -> None:
        self.allow_loopback = allow_loopback
        self._resolve = resolver

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:  # aiohttp shows an OSError's strerror: make it say what to do
            raise OSError(exc.errno, f"{host!r} does not resolve ({exc.strerror or exc}); check the URL") from exc
        if not addresses:
            raise OSError(None, f"{host!r} does not resolve; check the URL")
        reason = first_forbidden(addresses, allow_loopback=self.allow_loopback)
        if reason is not None:
            raise ForbiddenTargetAddress(host, reason)
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                              proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST) for address in addresses]

    async def close(self) -> None:
        return None


def guarded_socket_factory(*, allow_loopback: bool) -> SocketFactoryType:
    """A socket factory for aiohttp that refuses to open a socket to a forbidden address."""

    def open_socket(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, address = addr_info
        reason = forbidden_address_reason(str(address[0]), allow_loopback=allow_loopback)
        if reason is not None:
            raise ForbiddenTargetAddress(str(address[0]), reason)
        return socket.socket(family=family, type=type_, proto=proto)

    return open_socket


def default_tls() -> ssl.SSLContext:
    """Certificates verified against certifi's bundle, as httpx (the plugins' client) does."""
    return ssl.create_default_context(cafile=certifi.where())


def guarded_connector(*, allow_loopback: bool, limit: int, resolver: AsyncResolver = system_resolver,
                      tls: ssl.SSLContext | None = None) -> aiohttp.TCPConnector:
    """A pooling connector (``limit`` connections in all, reused per target) whose sockets go only where allowed."""
    return aiohttp.TCPConnector(
        limit=limit, ssl=tls or default_tls(),
        resolver=GuardedResolver(allow_loopback=allow_loopback, resolver=resolver),
        socket_factory=guarded_socket_factory(allow_loopback=allow_loopback),
    )
