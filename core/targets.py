"""Where may the host send? The one address policy (SSRF protection) for everything that goes out.

Production targets must be ``https`` and resolve only to public addresses: loopback, private,
link-local, shared, reserved and cloud-metadata addresses are refused. Development mode may allow
loopback explicitly (local receivers in tests and the demo; the ``allow_loopback_targets`` setting).

Every HTTP client the host gives out checks resolved addresses with :func:`first_forbidden`
(deliveries, ``ctx.http``); subscriptions and the send-time guard check whole URLs with
:func:`check_url_shape` and :func:`check_resolved_target`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from urllib.parse import SplitResult, urlsplit

from core.errors import ValidationFailed

Resolver = Callable[[str, int], list[str]]
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ValidationFailed(f"target_url host {host!r} does not resolve ({exc.strerror}); check the URL.",
                               code="target_url_unresolvable") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_target_url(url: str, *, allow_loopback: bool = False, resolver: Resolver = system_resolver) -> str:
    """Return ``url`` if it is a safe delivery target, else raise ``ValidationFailed`` saying why."""
    parts, host = check_url_shape(url)
    check_resolved_target(parts.scheme, host, parts.port or default_port(parts.scheme),
                          allow_loopback=allow_loopback, resolver=resolver)
    return url.strip()


def check_url_shape(url: str) -> tuple[SplitResult, str]:
    """The checks that need no DNS: a URL of sane length, http(s), no credentials, no metadata host name.

    Returns the split URL and its normalised host name (lower case, no trailing dot).
    """
    if not isinstance(url, str) or len(url) > 2048:
        raise ValidationFailed("target_url must be a URL of at most 2048 characters.", code="target_url_invalid")
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # a port that is not a number raises here, not later
    except ValueError as exc:
        raise ValidationFailed("target_url is not a valid URL.", code="target_url_invalid") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed("target_url must be an absolute https:// URL.", code="target_url_invalid")
    if parts.username or parts.password:
        raise ValidationFailed("target_url must not contain credentials.", code="target_url_invalid")
    host = parts.hostname.lower().rstrip(".")
    if host in METADATA_HOSTS:
        raise ValidationFailed(f"target_url host {host!r} is a cloud metadata address; use a public URL.",
                               code="target_url_forbidden")
    return parts, host


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def check_resolved_target(scheme: str, host: str, port: int, *, allow_loopback: bool,
                          resolver: Resolver = system_resolver) -> None:
    """The checks that need DNS: ``host`` resolves, only to allowed addresses, and plain http only to
    loopback in development mode. Depends on nothing but (scheme, host, port), so its answer can be cached."""
    addresses = resolver(host, port)
    if not addresses:
        raise ValidationFailed(f"target_url host {host!r} does not resolve; check the URL.",
                               code="target_url_unresolvable")
    all_loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if scheme != "https" and not (allow_loopback and all_loopback):
        raise ValidationFailed("target_url must use https://.", code="target_url_insecure")
    reason = first_forbidden(addresses, allow_loopback=allow_loopback)
    if reason is not None:
        raise ValidationFailed(f"target_url host {host!r} resolves to {reason}; deliveries go to public "
                               "addresses only.", code="target_url_forbidden")


def first_forbidden(addresses: Iterable[str], *, allow_loopback: bool) -> str | None:
    """Why a name resolving to ``addresses`` may not be reached, or None when every address is allowed.

    One forbidden address refuses the whole name: an attacker must not be able to mix a public and a
    private answer and hope for the private one. Every check of resolved addresses (subscribe time,
    send time, connection time, whichever HTTP client makes the connection) goes through here.
    """
    for address in addresses:
        reason = forbidden_address_reason(address, allow_loopback=allow_loopback)
        if reason is not None:
            return reason
    return None


def forbidden_address_reason(address: str, *, allow_loopback: bool) -> str | None:
    """Why nothing may be sent to ``address`` (an IP literal), or None when it may."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback and allow_loopback:
        return None
    if (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global):
        return f"{ip}, a loopback, private, link-local or metadata address"
    return None


class SendTimeGuard:
    """Checks a target again right before each POST (DNS rebinding: a name that resolved to a public
    address at subscribe time may resolve to a private one now).

    The URL's shape (scheme, credentials, metadata host names) is checked on every call; the DNS
    answer is cached for ``ttl`` seconds per (scheme, host, port), the most recently used
    ``max_entries`` of them, so a busy target costs one lookup, not one per delivery, and a flood
    of distinct hosts cannot grow the cache without bound. This check gives the clear "not sent"
    reason early; the binding one is made at connection time by :mod:`core.guarded_connector`
    (deliveries) and :mod:`core.guarded_transport` (plugins' HTTP), which connect only to the
    addresses they have just checked, so a name that changes its answer after this lookup still
    reaches nothing private. It is not redundant with that: targets a plugin
    passes to ``ctx.deliver`` are checked nowhere else, and the transport checks addresses only,
    not the URL's scheme, credentials or metadata host names.
    """

    def __init__(self, *, allow_loopback: bool, ttl: float = 30.0, max_entries: int = 1024,
                 resolver: Resolver = system_resolver, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.allow_loopback, self.ttl, self.max_entries = allow_loopback, ttl, max_entries
        self.resolver, self.monotonic = resolver, monotonic
        self._cache: OrderedDict[tuple[str, str, int], tuple[float, ValidationFailed | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cache)

    async def check(self, url: str) -> None:
        """Return if ``url`` may be sent to now, else raise ``ValidationFailed`` saying why."""
        parts, host = check_url_shape(url)
        key = (parts.scheme, host, parts.port or default_port(parts.scheme))
        now = self.monotonic()
        cached = self._cache.get(key)
        if cached is None or now - cached[0] > self.ttl:
            try:
                await asyncio.to_thread(check_resolved_target, *key, allow_loopback=self.allow_loopback,
                                        resolver=self.resolver)
                cached = (now, None)
            except ValidationFailed as exc:
                cached = (now, exc)
            self._cache[key] = cached
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        if cached[1] is not None:
            raise ValidationFailed(cached[1].message, code=cached[1].code)
