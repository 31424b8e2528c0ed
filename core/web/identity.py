"""Who is asking: the tenant a request acts for, from the ``resolve_tenant`` hook."""

from __future__ import annotations

import hashlib
import secrets as pysecrets

from starlette.requests import Request

from core.errors import IntellectraError
from core.host import Host
from core.models import Tenant
from core.tenants import TenantLookup


class Unauthenticated(IntellectraError):
    code = "unauthenticated"
    http_status = 401


def host_of(request: Request) -> Host:
    host = request.app.state.host
    assert isinstance(host, Host)
    return host


async def current_tenant(request: Request) -> Tenant | None:
    if "tenant" in request.state._state:
        return request.state.tenant  # type: ignore[no-any-return]
    host = host_of(request)
    tenant = await host.run_plugin_code(None, "resolve_tenant", host.plugins.pm.hook.resolve_tenant, request=request,
                                        tenants=TenantLookup(host.tenants))
    request.state.tenant = tenant
    return tenant  # type: ignore[no-any-return]


async def require_tenant(request: Request) -> Tenant:
    tenant = await current_tenant(request)
    if tenant is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <tenant token>` "
                              "(from `intellectra-integrations tenants create`) or use the settings page.")
    return tenant


def session_secret(host: Host) -> str:
    """The cookie-signing key: configured, else derived from the first encryption key, else random (dev)."""
    if host.settings.session_secret:
        return host.settings.session_secret
    if host.settings.secret_keys:
        first = host.settings.secret_keys.split(",")[0].strip()
        return hashlib.sha256(b"intellectra-session:" + first.encode()).hexdigest()
    return pysecrets.token_hex(32)
