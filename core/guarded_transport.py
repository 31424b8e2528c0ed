"""HTTP transports that connect only to addresses they have just checked (SSRF, DNS rebinding).

Checking a target's name before a POST is not enough on its own: the HTTP client resolves the name
again, and an attacker's DNS can answer with a public address for the check and a private one for
the connection. Here the check happens inside the connection step: the name is resolved once, every
address it resolves to is checked, and the socket is opened to one of those same addresses. TLS
still verifies the certificate (and sends SNI) for the name in the URL, so pinning changes nothing
for a legitimate receiver.

httpx has no public hook for this; httpcore does (a network backend), so :class:`GuardedTransport`
(async, deliveries) and :class:`GuardedSyncTransport` (sync, ``ctx.http`` through
:func:`guarded_client`) are httpx's own transports with their connection pools built on
:class:`GuardedBackend` / :class:`GuardedSyncBackend`. Both apply the one address policy of
:mod:`core.targets` (:func:`core.targets.first_forbidden`).
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from core.targets import first_forbidden

AsyncResolver = Callable[[str, int], Awaitable[list[str]]]
SyncResolver = Callable[[str, int], list[str]]
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
"""``ctx.http``'s timeouts: 5 s to connect, 15 s for each read, write and pool wait."""


def _ip_literal(host: str) -> list[str] | None:
    """An IP literal is its own answer: no lookup (which would cost a worker thread hop per connection)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for TCP, in the resolver's order (no duplicates)."""
    literal = _ip_literal(host)
    if literal is not None:
        return literal
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def system_resolver_sync(host: str, port: int) -> list[str]:
    """:func:`system_resolver` for synchronous clients (bounded by the system resolver's own timeouts:
    ``getaddrinfo`` takes none)."""
    literal = _ip_literal(host)
    if literal is not None:
        return literal
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, addresses: list[str], *, allow_loopback: bool) -> list[str]:
    """``addresses`` if ``host`` may be connected to through all of them; else ``TargetAddressForbidden``."""
    if not addresses:
        raise httpcore.ConnectError(f"{host!r} does not resolve; check the URL")
    reason = first_forbidden(addresses, allow_loopback=allow_loopback)
    if reason is not None:
        raise TargetAddressForbidden(host, reason)
    return addresses


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
        last: Exception | None = None
        for address in checked_addresses(host, addresses, allow_loopback=self.allow_loopback):
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
        raise httpcore.ConnectError(NO_UNIX_SOCKETS)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedSyncBackend(httpcore.NetworkBackend):
    """:class:`GuardedBackend` for synchronous clients (``ctx.http``): the same checks, blocking sockets."""

    def __init__(self, *, allow_loopback: bool, resolver: SyncResolver = system_resolver_sync) -> None:
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.resolver(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host!r} does not resolve ({exc}); check the URL") from exc
        last: Exception | None = None
        for address in checked_addresses(host, addresses, allow_loopback=self.allow_loopback):
            try:
                return self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                               socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError(NO_UNIX_SOCKETS)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


NO_UNIX_SOCKETS = "the host sends over TCP to checked addresses, never to a Unix socket"


class TargetAddressForbidden(httpcore.ConnectError):
    """The target's name resolved, at connection time, to an address nothing may be sent to."""

    def __init__(self, host: str, reason: str) -> None:
        self.host, self.reason = host, reason
        super().__init__(f"target host {host!r} now resolves to {reason}; the host sends to public addresses only, "
                         "so nothing was sent. Use a public URL.")


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


class GuardedSyncTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` (no proxy, HTTP/1.1) whose connections go through :class:`GuardedSyncBackend`."""

    def __init__(self, *, allow_loopback: bool, limits: httpx.Limits = httpx.Limits(),
                 verify: ssl.SSLContext | bool = True, resolver: SyncResolver = system_resolver_sync) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedSyncBackend(allow_loopback=allow_loopback, resolver=resolver),
        )


def guarded_client(*, allow_loopback: bool, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                   resolver: SyncResolver = system_resolver_sync) -> httpx.Client:
    """The synchronous client behind ``ctx.http``: every connection checked, nothing else configurable.

    No proxies from the environment (a proxy would be the only address checked, not the target), no
    redirects followed unless a request asks (and then every hop connects through the same check),
    and no cookies kept: the client is shared by every plugin and tenant, so a cookie one provider
    sets must never ride along on another tenant's request.
    """
    return httpx.Client(transport=GuardedSyncTransport(allow_loopback=allow_loopback, resolver=resolver),
                        timeout=timeout, follow_redirects=False, trust_env=False, cookies=_no_cookies())


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
