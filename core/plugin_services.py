"""What a plugin may ask of the host: the services behind ``ctx.api_keys``, ``ctx.subscriptions``...

A plugin never holds the ``Host``. Its :class:`core.IntegrationContext` keeps a private
:class:`HostServices` (the protocol through which a context reaches the host; ``core.host``
implements it) and hands out the small groups below, each bound to the context's own
integration — and narrowed to the context's tenant when it has one — so a plugin cannot read or
change another integration's API keys, subscriptions, rate-limit buckets, deliveries or
connections, whatever ids it passes. Every method does database I/O: from ``async`` web handlers
call it through ``ctx.run_in_threadpool`` (the plugin's own threads, on a time budget).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from core.errors import PluginError
from core.models import ApiKey, Connection, Delivery, InboundEvent, Subscription, Tenant

if TYPE_CHECKING:
    from pathlib import Path

    import httpx
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from core.catalogue import EventCatalogue
    from core.clock import Clock
    from core.events import EventType

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class MissedEvents:
    """What ``ctx.store_missed_events`` did: ``stored`` new events, ``duplicates`` already received."""

    stored: int
    duplicates: int


class CatalogueView(Mapping[str, "EventType"]):
    """``ctx.event_types``: the deployment's domain event types (core's and every loaded plugin's), read-only.

    A mapping ``{name: EventType}`` in declaration order; declare your own with the ``event_types`` hook.
    """

    def __init__(self, catalogue: EventCatalogue) -> None:
        self._catalogue = catalogue

    def __getitem__(self, name: str) -> EventType:
        return self._catalogue[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalogue)

    def __len__(self) -> int:
        return len(self._catalogue)

    def __repr__(self) -> str:
        return f"<CatalogueView of {len(self)} event types>"

    def owner(self, name: str) -> str:
        """The plugin that declared ``name`` (``"core"`` for the platform's vocabulary)."""
        return self._catalogue.owner(name)

    def require(self, name: str) -> EventType:
        """The type called ``name``, or a :class:`core.ValidationFailed` listing the types there are."""
        return self._catalogue.require(name)

    def validate(self, name: str, data: Any) -> dict[str, Any]:
        """``data`` checked against the type's schema, as JSON-able fields (:class:`core.ValidationFailed` if not)."""
        return self._catalogue.validate(name, data)


class ApiKeyStore(Protocol):
    """The host's API keys (``core.apikeys.ApiKeys``), as :class:`ApiKeysService` uses them."""

    def create(self, tenant_id: str, integration: str, *, label: str = "",
               actor: str = "system") -> tuple[ApiKey, str]: ...

    def list(self, tenant_id: str, *, integration: str | None = None,
             include_revoked: bool = False) -> builtins.list[ApiKey]: ...

    def revoke(self, key_id: str, *, tenant_id: str | None = None, integration: str | None = None,
               actor: str = "system") -> ApiKey: ...

    def revoke_all(self, tenant_id: str, integration: str, *, actor: str = "system") -> int: ...

    def authenticate(self, plaintext: str, integration: str) -> tuple[Tenant, ApiKey] | None: ...


class SubscriptionStore(Protocol):
    """The host's subscriptions (``core.subscriptions.Subscriptions``), as :class:`SubscriptionsService` uses them."""

    def subscribe(self, tenant_id: str, integration: str, *, event_type: str, target_url: str,
                  filters: Mapping[str, Any] | None = None, secret: str | None = None) -> tuple[Subscription, str]: ...

    def list(self, tenant_id: str, *, integration: str | None = None) -> builtins.list[Subscription]: ...

    def get(self, tenant_id: str, subscription_id: str, *, integration: str | None = None) -> Subscription: ...

    def unsubscribe(self, tenant_id: str, subscription_id: str, *, integration: str | None = None) -> bool: ...

    def remove_all(self, tenant_id: str, integration: str) -> int: ...

    def check_filters(self, event_type: str, filters: Mapping[str, Any] | None) -> dict[str, Any]: ...


class RateLimiter(Protocol):
    """The host's rate limits (``core.rate_limits.RateLimits``), as :class:`RateLimitsService` uses them."""

    def hit(self, scope: str, key: str, *, per_minute: int) -> int: ...

    def forget(self, scope: str, key: str) -> None: ...


class HostServices(Protocol):
    """The host as one integration's contexts reach it, bound to that integration (``core.host``
    implements it). Private: plugins use the context's methods."""

    @property
    def integration(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def http(self) -> httpx.Client: ...

    @property
    def event_types(self) -> CatalogueView: ...

    @property
    def api_keys(self) -> ApiKeyStore: ...

    @property
    def subscriptions(self) -> SubscriptionStore: ...

    @property
    def rate_limits(self) -> RateLimiter: ...

    def secrets_of(self, connection: Connection) -> dict[str, str]: ...

    def find_tenant(self, tenant_id: str) -> Tenant | None: ...

    def get_tenant(self, tenant_id: str) -> Tenant: ...

    def connection_of(self, tenant_id: str) -> Connection | None: ...

    def connections(self, tenant_id: str | None) -> builtins.list[Connection]:
        """This integration's connections (``tenant_id``'s only, when given)."""

    def connect(self, tenant: Tenant, *, actor: str) -> Connection | None:
        """Run this integration's ``connect`` hook with an empty form; ``None`` when it redirected."""

    def recheck(self, tenant: Tenant) -> Connection:
        """Ask this integration's ``status`` hook again and store its answer."""

    def recent_deliveries(self, tenant_id: str, *, limit: int, status: str | None) -> builtins.list[Delivery]: ...

    def recent_payloads(self, tenant_id: str, event_type: str, *, limit: int,
                        filters: Mapping[str, Any] | None) -> builtins.list[dict[str, Any]]: ...

    def example_payload(self, tenant_id: str, event_type: str) -> dict[str, Any]: ...

    def store_missed_events(self, events: Sequence[InboundEvent]) -> MissedEvents: ...

    def perform_action(self, tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None: ...

    async def run_in_lane(self, what: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...

    def render_page(self, request: Request, directory: Path, template: str, context: Mapping[str, Any],
                    status_code: int) -> HTMLResponse: ...

    async def tenant_of(self, request: Request) -> Tenant | None: ...

    async def require_tenant(self, request: Request) -> Tenant: ...


class BoundTo(Protocol):
    """What a service group reads of its context (an ``IntegrationContext``): the tenant it is bound to."""

    @property
    def tenant(self) -> Tenant | None: ...


class _Scoped:
    """A service group bound to one context: its integration, and its tenant if it has one."""

    def __init__(self, ctx: BoundTo, services: HostServices) -> None:
        self._ctx = ctx
        self._services = services
        self._integration = services.integration

    def _tenant(self, doing: str) -> Tenant:
        if self._ctx.tenant is None:
            raise PluginError(f"{doing} needs a context bound to a tenant: a hook's ctx for a tenant, or "
                              "ctx.for_tenant(tenant) in web routes and CLI commands.", code="context_without_tenant")
        return self._ctx.tenant

    def _narrowed_to(self) -> str | None:
        """The tenant id reads are narrowed to (None: every tenant of this integration)."""
        return self._ctx.tenant.id if self._ctx.tenant is not None else None

    def _actor(self, actor: str | None) -> str:
        return actor or f"plugin:{self._integration}"


class ApiKeysService(_Scoped):
    """``ctx.api_keys``: this integration's API keys (the plaintext shown once, stored hashed, revocable)."""

    def create(self, *, label: str = "", actor: str | None = None) -> tuple[ApiKey, str]:
        """A new key for the context's tenant: returns the key and its plaintext.

        Show the plaintext to the creator now: it is stored hashed and can never be read again.
        ``actor`` is who asked, for the audit log (default ``plugin:<name>``).
        """
        tenant = self._tenant("ctx.api_keys.create")
        return self._services.api_keys.create(tenant.id, self._integration, label=label, actor=self._actor(actor))

    def list(self, *, include_revoked: bool = False) -> builtins.list[ApiKey]:
        """The context's tenant's keys for this integration, oldest first (never the keys themselves)."""
        tenant = self._tenant("ctx.api_keys.list")
        return self._services.api_keys.list(tenant.id, integration=self._integration, include_revoked=include_revoked)

    def revoke(self, key_id: str, *, actor: str | None = None) -> ApiKey:
        """Revoke one of this integration's keys (idempotent); only the context's tenant's, if it has one.

        Raises :class:`core.NotFound` for any other id (another integration's or tenant's key).
        """
        return self._services.api_keys.revoke(key_id, tenant_id=self._narrowed_to(), integration=self._integration,
                                          actor=self._actor(actor))

    def revoke_all(self, *, actor: str | None = None) -> int:
        """Revoke every active key of the context's tenant for this integration; returns how many."""
        tenant = self._tenant("ctx.api_keys.revoke_all")
        return self._services.api_keys.revoke_all(tenant.id, self._integration, actor=self._actor(actor))

    def authenticate(self, plaintext: str) -> tuple[Tenant, ApiKey] | None:
        """The tenant and key a presented key belongs to, or ``None`` (unknown, revoked, another
        integration's key, or another tenant's when the context is bound to one)."""
        found = self._services.api_keys.authenticate(plaintext, self._integration)
        narrowed = self._narrowed_to()
        if found is None or (narrowed is not None and found[0].id != narrowed):
            return None
        return found


class SubscriptionsService(_Scoped):
    """``ctx.subscriptions``: targets (REST hooks) this integration subscribed for the context's tenant.

    The host's outbox delivers each matching domain event to them, signed and retried.
    """

    def subscribe(self, *, event_type: str, target_url: str, filters: Mapping[str, Any] | None = None,
                  secret: str | None = None) -> tuple[Subscription, str]:
        """Add a target for ``event_type``; returns it and its signing secret (a new one unless given).

        The URL is checked like every delivery target (https, no private or loopback addresses
        outside development); ``filters`` must name fields of the event's payload. Both raise
        :class:`core.ValidationFailed` with a message for the caller.
        """
        tenant = self._tenant("ctx.subscriptions.subscribe")
        return self._services.subscriptions.subscribe(tenant.id, self._integration, event_type=event_type,
                                                  target_url=target_url, filters=filters, secret=secret)

    def list(self) -> builtins.list[Subscription]:
        """The context's tenant's subscriptions of this integration, oldest first."""
        tenant = self._tenant("ctx.subscriptions.list")
        return self._services.subscriptions.list(tenant.id, integration=self._integration)

    def get(self, subscription_id: str) -> Subscription:
        """One of them; :class:`core.NotFound` for any other id."""
        tenant = self._tenant("ctx.subscriptions.get")
        return self._services.subscriptions.get(tenant.id, subscription_id, integration=self._integration)

    def unsubscribe(self, subscription_id: str) -> bool:
        """Remove one (its pending deliveries are cancelled); ``False`` when it is not there (idempotent)."""
        tenant = self._tenant("ctx.subscriptions.unsubscribe")
        return self._services.subscriptions.unsubscribe(tenant.id, subscription_id, integration=self._integration)

    def remove_all(self) -> int:
        """Remove every subscription of the context's tenant for this integration; returns how many."""
        tenant = self._tenant("ctx.subscriptions.remove_all")
        return self._services.subscriptions.remove_all(tenant.id, self._integration)

    def check_filters(self, event_type: str, filters: Mapping[str, Any] | None) -> dict[str, Any]:
        """``filters`` checked by the rule subscriptions are held to (each names a payload field of
        ``event_type`` with a plain value), e.g. for a sample endpoint; :class:`core.ValidationFailed` if not."""
        return self._services.subscriptions.check_filters(event_type, filters)


class RateLimitsService(_Scoped):
    """``ctx.rate_limits``: request limits counted in the database, so they hold across every process.

    Buckets live in this integration's own scope: ``key`` only has to be unique within it.
    """

    def hit(self, key: str, *, per_minute: int) -> int:
        """Take one request from ``key``'s bucket: 0 to go on, else the seconds for ``Retry-After``."""
        return self._services.rate_limits.hit(self._integration, key, per_minute=per_minute)

    def forget(self, key: str) -> None:
        """Drop ``key``'s bucket (e.g. when the API key it counts is revoked)."""
        self._services.rate_limits.forget(self._integration, key)


class DeliveriesService(_Scoped):
    """``ctx.deliveries``: what became of this integration's outbox deliveries for the context's tenant."""

    def recent(self, *, limit: int = 20, status: str | None = None) -> builtins.list[Delivery]:
        """The newest first (``status``: ``pending``, ``delivered``, ``dead``... to narrow them)."""
        tenant = self._tenant("ctx.deliveries.recent")
        return self._services.recent_deliveries(tenant.id, limit=limit, status=status)


class DomainEventsService(_Scoped):
    """``ctx.domain_events``: the context's tenant's domain events as targets receive them (for samples)."""

    def recent(self, event_type: str, *, limit: int = 3,
               filters: Mapping[str, Any] | None = None) -> builtins.list[dict[str, Any]]:
        """Up to ``limit`` latest payloads of ``event_type``, newest first, in the delivered shape;
        with ``filters`` only those a subscription with these filters would receive."""
        tenant = self._tenant("ctx.domain_events.recent")
        return self._services.recent_payloads(tenant.id, event_type, limit=limit, filters=filters)

    def example(self, event_type: str) -> dict[str, Any]:
        """A stable example of ``event_type`` in the delivered shape (for a tenant that has none yet)."""
        return self._services.example_payload(self._tenant("ctx.domain_events.example").id, event_type)


class ConnectionsService(_Scoped):
    """``ctx.connections``: this integration's connections (never another integration's)."""

    def list(self) -> builtins.list[Connection]:
        """Every tenant's connection to this integration (the context's tenant's only, if it has one)."""
        return self._services.connections(self._narrowed_to())

    def find(self, tenant_id: str) -> Connection | None:
        """``tenant_id``'s connection to this integration, or ``None``."""
        narrowed = self._narrowed_to()
        if narrowed is not None and tenant_id != narrowed:
            return None
        return self._services.connection_of(tenant_id)

    def connect(self, *, actor: str | None = None) -> Connection:
        """Connect the context's tenant now: your ``connect`` hook runs with an empty form.

        For integrations that connect from their own routes (Zapier: when the first API key is
        created), not through the settings page. The hook must return ``Connected``.
        """
        tenant = self._tenant("ctx.connections.connect")
        connection = self._services.connect(tenant, actor=self._actor(actor))
        if connection is None:
            raise PluginError(f"ctx.connections.connect() needs the {self._integration} connect hook to return "
                              "Connected; a Redirect has to go through the settings page.", code="connect_redirects")
        return connection

    def recheck(self) -> Connection:
        """Ask your ``status`` hook again (``refresh=False``) and store its answer; returns the connection.

        :class:`core.NotConnected` when the tenant never connected.
        """
        tenant = self._tenant("ctx.connections.recheck")
        return self._services.recheck(tenant)

