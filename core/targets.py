"""Is a delivery target URL safe to POST to? (SSRF protection)

Production targets must be ``https`` and resolve only to public addresses: loopback, private,
link-local, shared, reserved and cloud-metadata addresses are refused. Development mode may allow
loopback explicitly (local receivers in tests and the demo).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

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
    if not isinstance(url, str) or len(url) > 2048:
        raise ValidationFailed("target_url must be a URL of at most 2048 characters.", code="target_url_invalid")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed("target_url must be an absolute https:// URL.", code="target_url_invalid")
    if parts.username or parts.password:
        raise ValidationFailed("target_url must not contain credentials.", code="target_url_invalid")
    host = parts.hostname.lower().rstrip(".")
    if host in METADATA_HOSTS:
        raise ValidationFailed(f"target_url host {host!r} is a cloud metadata address; use a public URL.",
                               code="target_url_forbidden")
    addresses = resolver(host, parts.port or (443 if parts.scheme == "https" else 80))
    if not addresses:
        raise ValidationFailed(f"target_url host {host!r} does not resolve; check the URL.",
                               code="target_url_unresolvable")
    all_loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if parts.scheme != "https" and not (allow_loopback and all_loopback):
        raise ValidationFailed("target_url must use https://.", code="target_url_insecure")
    for address in addresses:
        reason = forbidden_address_reason(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise ValidationFailed(f"target_url host {host!r} resolves to {reason}; deliveries go to public "
                                   "addresses only.", code="target_url_forbidden")
    return url.strip()


def forbidden_address_reason(address: str, *, allow_loopback: bool) -> str | None:
    """Why deliveries may not go to ``address`` (an IP literal), or None when they may."""
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

    Answers are cached for ``ttl`` seconds per host so a busy target costs one lookup, not one per
    delivery. This check gives the clear "not sent" reason early; the binding one is made at
    connection time by :mod:`core.guarded_transport`, which connects only to the addresses it has
    just checked, so a name that changes its answer after this lookup still reaches nothing private.
    It is not redundant with that: targets a plugin passes to ``ctx.deliver`` are checked nowhere
    else, and the transport checks addresses only, not the URL's scheme, credentials or metadata
    host names.
    """

    def __init__(self, *, allow_loopback: bool, ttl: float = 30.0) -> None:
        self.allow_loopback, self.ttl = allow_loopback, ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def check(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        cached = self._cache.get(host)
        now = time.monotonic()
        if cached is None or now - cached[0] > self.ttl:
            try:
                await asyncio.to_thread(check_target_url, url, allow_loopback=self.allow_loopback)
                cached = (now, None)
            except ValidationFailed as exc:
                cached = (now, exc.message)
            self._cache[host] = cached
        if cached[1] is not None:
            raise ValidationFailed(cached[1], code="target_url_forbidden")
