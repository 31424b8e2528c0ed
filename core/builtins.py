"""Built-in behaviour, written as plugins on the same hooks a third party uses (datasette's way)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.hookspecs import hookimpl
from core.models import Tenant

if TYPE_CHECKING:
    from starlette.requests import Request

    from core.host import Host

SESSION_TENANT_KEY = "tenant_id"


class StandaloneIdentity:
    """The standalone server's identity: API bearer tokens, and the page's signed session cookie.

    Registered with ``trylast`` so a host app's own ``resolve_tenant`` answers first.
    """

    @hookimpl(trylast=True)
    def resolve_tenant(self, request: Request, host: Host) -> Tenant | None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return host.tenants.by_token(token.strip())
        if "session" in request.scope:
            tenant_id = request.session.get(SESSION_TENANT_KEY)
            if isinstance(tenant_id, str):
                return host.tenants.find(tenant_id)
        return None


def register_builtins(host: Host) -> None:
    host.plugins.register_builtin("builtin_identity", StandaloneIdentity())
