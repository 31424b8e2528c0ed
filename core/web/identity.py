"""Who is asking: the tenant a request acts for (the host asks the ``resolve_tenant`` hook)."""

from __future__ import annotations

import hashlib
import secrets as pysecrets

from starlette.requests import Request

from core.host import Host
from core.models import Tenant


def host_of(request: Request) -> Host:
    host = request.app.state.host
    assert isinstance(host, Host)
    return host


async def current_tenant(request: Request) -> Tenant | None:
    return await host_of(request).tenant_of(request)


async def require_tenant(request: Request) -> Tenant:
    return await host_of(request).require_tenant(request)


def session_secret(host: Host) -> str:
    """The cookie-signing key: configured, else derived from the first encryption key, else random (dev)."""
    if host.settings.session_secret:
        return host.settings.session_secret
    if host.settings.secret_keys:
        first = host.settings.secret_keys.split(",")[0].strip()
        return hashlib.sha256(b"intellectra-session:" + first.encode()).hexdigest()
    return pysecrets.token_hex(32)
