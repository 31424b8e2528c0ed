"""Intellectra's integration host: the public surface for plugin authors and the host app.

Plugin authors import from here only (``from core import hookimpl, IntegrationInfo, ...``), plus
``core.testing`` in their tests and ``core.cli`` (``plugin_context``) / ``core.cli.output`` in CLI
commands. A plugin acts through its :class:`IntegrationContext`; :class:`Host` is the host app's API,
never handed to a plugin: the host app uses ``core.web.app.create_app`` and the ``Host`` members
listed in ``core.host.HOST_APP_API`` (docs/host-app.md). Everything else in ``core`` is private and
may change.
"""

from core.cards import Action, CardDetails, Fact, Link, Row, RowAction, Section, Table, Tone
from core.catalogue import EventCatalogue
from core.context import IntegrationContext
from core.devserver import DevServer
from core.errors import (
    ActionRequired,
    ConfigError,
    ConnectError,
    ConnectStateError,
    IgnoreEvent,
    IntellectraError,
    NotConnected,
    NotFound,
    PluginBusy,
    PluginError,
    PluginNotLoaded,
    PluginTimeout,
    SecretsError,
    ValidationFailed,
    WebhookRejected,
)
from core.events import CORE_EVENT_TYPES, EventType, NewDomainEvent
from core.hookspecs import hookimpl, hookspec
from core.host import Host
from core.models import (
    HOST_API_VERSION,
    ApiKey,
    Capability,
    CardForm,
    CardFormResult,
    Choice,
    Connected,
    Connection,
    ConnectionState,
    ConnectionStatus,
    ConnectOption,
    Delivery,
    DeliveryStatus,
    DomainEvent,
    Field,
    FormWhen,
    InboundEvent,
    InboundRequest,
    IntegrationInfo,
    Redirect,
    StoredEvent,
    Subscription,
    Tenant,
)
from core.plugin_services import CatalogueView, MissedEvents
from core.plugins import load_event_catalogue
from core.registry import load_registry
from core.secrets_type import Secret
from core.settings import Settings
from core.tenants import TenantLookup

__version__ = "0.1.0"


async def require_tenant(request: object) -> Tenant:
    """The tenant a web request acts for (for ``web_routes`` handlers); a clear 401 when there is none.

    Asks the ``resolve_tenant`` hook like the host's own API does, through the host of the web app
    the request came to (``core.web.app.create_app`` puts it on the app's state).
    """
    host = request.app.state.host  # type: ignore[attr-defined]
    assert isinstance(host, Host)
    return await host.require_tenant(request)  # type: ignore[arg-type]


__all__ = [
    "CORE_EVENT_TYPES",
    "HOST_API_VERSION",
    "Action",
    "ActionRequired",
    "ApiKey",
    "Capability",
    "CardDetails",
    "CardForm",
    "CardFormResult",
    "CatalogueView",
    "Choice",
    "ConfigError",
    "ConnectError",
    "ConnectOption",
    "ConnectStateError",
    "Connected",
    "Connection",
    "ConnectionState",
    "ConnectionStatus",
    "Delivery",
    "DeliveryStatus",
    "DevServer",
    "DomainEvent",
    "EventCatalogue",
    "EventType",
    "Fact",
    "Field",
    "FormWhen",
    "Host",
    "IgnoreEvent",
    "InboundEvent",
    "InboundRequest",
    "IntegrationContext",
    "IntegrationInfo",
    "IntellectraError",
    "Link",
    "MissedEvents",
    "NewDomainEvent",
    "NotConnected",
    "NotFound",
    "PluginBusy",
    "PluginError",
    "PluginNotLoaded",
    "PluginTimeout",
    "Redirect",
    "Row",
    "RowAction",
    "Secret",
    "SecretsError",
    "Section",
    "Settings",
    "StoredEvent",
    "Subscription",
    "Table",
    "Tenant",
    "TenantLookup",
    "Tone",
    "ValidationFailed",
    "WebhookRejected",
    "hookimpl",
    "hookspec",
    "load_event_catalogue",
    "load_registry",
    "require_tenant",
]
