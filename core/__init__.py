"""Intellectra's integration host: the public surface for plugin authors and the host app.

Plugin authors import from here only (``from core import hookimpl, IntegrationInfo, ...``);
everything else in ``core`` is private and may change.
"""

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
    PluginError,
    PluginNotLoaded,
    SecretsError,
    ValidationFailed,
    WebhookRejected,
)
from core.events import EVENT_TYPES, NewDomainEvent
from core.hookspecs import hookimpl, hookspec
from core.models import (
    HOST_API_VERSION,
    Capability,
    Connected,
    Connection,
    ConnectionState,
    ConnectionStatus,
    ConnectOption,
    DomainEvent,
    Field,
    InboundEvent,
    InboundRequest,
    IntegrationInfo,
    Redirect,
    StoredEvent,
    Tenant,
)
from core.secrets_type import Secret


__version__ = "0.1.0"

__all__ = [
    "EVENT_TYPES",
    "HOST_API_VERSION",
    "ActionRequired",
    "Capability",
    "ConfigError",
    "ConnectError",
    "ConnectOption",
    "ConnectStateError",
    "Connected",
    "Connection",
    "ConnectionState",
    "ConnectionStatus",
    "DevServer",
    "DomainEvent",
    "Field",
    "IgnoreEvent",
    "InboundEvent",
    "InboundRequest",
    "IntegrationContext",
    "IntegrationInfo",
    "IntellectraError",
    "NewDomainEvent",
    "NotConnected",
    "NotFound",
    "PluginError",
    "PluginNotLoaded",
    "Redirect",
    "Secret",
    "SecretsError",
    "StoredEvent",
    "Tenant",
    "ValidationFailed",
    "WebhookRejected",
    "hookimpl",
    "hookspec",
]
