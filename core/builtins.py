"""Built-in behaviour, written as plugins on the same hooks a third party uses (datasette's way)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from core.catalogue import CORE
from core.events import CORE_EVENT_TYPES, EventType
from core.hookspecs import hookimpl
from core.models import Tenant

if TYPE_CHECKING:
    from starlette.requests import Request

    from core.tenants import TenantLookup

PAGE_SESSION_SCOPE_KEY = "intellectra.session"
"""Where a request's scope carries the web app's own session (``core.web.session`` puts it there)."""
SESSION_TENANT_KEY = "tenant_id"
"""The key of the signed-in tenant's id in that session (``core.web.signin`` writes it)."""


class CoreVocabulary:
    """The platform's domain event types (``purchase.completed``, ``member.created``...), declared like
    a plugin's, so they come first in every catalogue and no plugin can take them over."""

    @hookimpl
    def event_types(self) -> list[EventType]:
        return list(CORE_EVENT_TYPES.values())


class StandaloneIdentity:
    """The standalone server's identity: API bearer tokens, and the page's signed session cookie.

    Registered with ``trylast`` so a host app's own ``resolve_tenant`` answers first.
    """

    @hookimpl(trylast=True)
    def resolve_tenant(self, request: Request, tenants: TenantLookup) -> Tenant | None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return tenants.by_token(token.strip())
        session = request.scope.get(PAGE_SESSION_SCOPE_KEY)
        if isinstance(session, dict):  # the page's own session (never a host app's)
            tenant_id = session.get(SESSION_TENANT_KEY)
            if isinstance(tenant_id, str):
                return tenants.find(tenant_id)
        return None


class Registers(Protocol):
    """Where built-ins are registered: a plugin host (``core.plugins.PluginHost``)."""

    def register_builtin(self, name: str, plugin: object) -> None: ...


def register_core_vocabulary(plugins: Registers) -> None:
    """Registered by every plugin host before anything else loads (not only a ``Host``'s), so
    plugins loaded on their own, as the CLI does, meet core's types already taken."""
    plugins.register_builtin(CORE, CoreVocabulary())


def register_builtins(plugins: Registers) -> None:
    plugins.register_builtin("builtin_identity", StandaloneIdentity())
