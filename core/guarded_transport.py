"""An HTTP transport that connects only to addresses it has just checked (SSRF, DNS rebinding).

Checking a target's name before a POST is not enough on its own: the HTTP client resolves the name
again, and an attacker's DNS can answer with a public address for the check and a private one for
the connection. Here the check happens inside the connection step: the name is resolved once, every
address it resolves to is checked, and the socket is opened to one of those same addresses. TLS
still verifies the certificate (and sends SNI) for the name in the URL, so pinning changes nothing
for a legitimate receiver.

httpx has no public hook for this; httpcore does (a network backend), so :class:`GuardedTransport`
is httpx's own transport with its connection pool built on :class:`GuardedBackend`.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from core.targets import forbidden_address_reason

AsyncResolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for TCP, in the resolver's order (no duplicates)."""
    try:  # an IP literal is its own answer: no lookup (which would cost a worker thread hop per connection)
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, but ``connect_tcp`` refuses names that resolve anywhere non-public.

    A name with even one forbidden address is refused outright (as at subscribe time), so an
    attacker cannot mix a public and a private answer and hope for the private one.
    """

    def __init__(self, *, allow_loopback: bool, resolver: AsyncResolver = system_resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self.resolver(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host!r} took longer than {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"{host!r} does not resolve ({exc}); check the URL") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host!r} does not resolve; check the URL")
        for address in addresses:
            reason = forbidden_address_reason(address, allow_loopback=self.allow_loopback)
            if reason is not None:
                raise TargetAddressForbidden(host, reason)
        last: Exception | None = None
        for address in addresses:  # the checked addresses, and only those
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("deliveries go over TCP to public addresses, never to a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class TargetAddressForbidden(httpcore.ConnectError):
    """The target's name resolved, at connection time, to an address deliveries may not reach."""

    def __init__(self, host: str, reason: str) -> None:
        self.host, self.reason = host, reason
        super().__init__(f"target host {host!r} now resolves to {reason}; deliveries go to public addresses only, "
                         "so nothing was sent. Point the subscription at a public URL.")


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` (no proxy, HTTP/1.1) whose connections go through :class:`GuardedBackend`."""

    def __init__(self, *, allow_loopback: bool, limits: httpx.Limits = httpx.Limits(),
                 verify: ssl.SSLContext | bool = True, resolver: AsyncResolver = system_resolver) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)  # loading CAs once, not twice
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # Rebuilt with the same settings httpx used, plus the backend: httpx exposes no other way to pass one.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_loopback=allow_loopback, resolver=resolver),
        )
