"""``IntegrationContext`` (``ctx``): the plugin API — what a plugin gets from the host, never the host.

It carries the plugin's config, the tenant and connection the call is about, decrypted secrets on
demand, an HTTP client, the clock, *effects* (status changes, deliveries) the host applies in the
same transaction as the rest of the call's results, and the host's services limited to the
plugin's own integration (``core.plugin_services``).
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import attrs
import httpx

from core.errors import ConfigError, NotConnected, PluginError
from core.models import Connection, ConnectionState, ConnectionStatus, InboundEvent, Tenant
from core.plugin_services import (
    ApiKeysService,
    CatalogueView,
    ConnectionsService,
    DeliveriesService,
    DomainEventsService,
    HostServices,
    MissedEvents,
    RateLimitsService,
    SubscriptionsService,
)
from core.redact import register_secret

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from core.clock import Clock


T = TypeVar("T")

@attrs.frozen(kw_only=True)
class OutboundDelivery:
    """A delivery a plugin asked for with ``ctx.deliver``; the host's outbox sends and retries it."""

    target_url: str
    body: str
    event_type: str
    secret: str | None = attrs.field(default=None, repr=False)


@attrs.define(kw_only=True)
class Effects:
    """What a hook asked the host to change; applied atomically with the hook's other results."""

    status: ConnectionStatus | None = None
    disconnected_reason: str | None = None
    data_updates: dict[str, Any] = attrs.field(factory=dict)
    deliveries: list[OutboundDelivery] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class IntegrationContext:
    """Everything a plugin may do, bound to its own integration (and to a tenant, when it has one).

    Attributes: ``integration`` (your integration's name), ``config`` (an instance of your config
    class, validated from ``registry.toml``), ``tenant`` and ``connection`` (the site the call is
    about and its connection to your integration, or ``None``), ``base_url`` (where the host is
    reached: every URL you hand out starts with it).

    The services (``api_keys``, ``subscriptions``, ``rate_limits``, ``deliveries``,
    ``domain_events``, ``connections``...) reach your integration's data only: another
    integration's keys, subscriptions, buckets or rows stay invisible whatever ids you pass.
    Those that act for a site (creating a key, listing subscriptions) need a context bound to a
    tenant — a hook's ``ctx`` for a tenant, or ``ctx.for_tenant(...)`` — and raise
    :class:`core.PluginError` otherwise. Everything but the effects does I/O: from ``async`` web
    handlers, call it through ``await ctx.run_in_threadpool(...)``.
    """

    integration: str
    config: Any = attrs.field(repr=False)
    tenant: Tenant | None = None
    connection: Connection | None = None
    base_url: str = ""
    effects: Effects = attrs.field(factory=Effects, repr=False)
    _services: HostServices = attrs.field(repr=False, alias="services")
    _secrets: dict[str, str] | None = attrs.field(default=None, repr=False, alias="secrets")
    _applies_effects: bool = attrs.field(default=True, repr=False, alias="applies_effects")

    @property
    def clock(self) -> Clock:
        """The host's clock (tests move it by hand); prefer ``now()``."""
        return self._services.clock

    def now(self) -> datetime:
        """The current time, timezone-aware UTC, from the host's clock."""
        return self._services.clock.now()

    @property
    def http(self) -> httpx.Client:
        """The host's HTTP client (``httpx.Client``) for calls to your provider; use it, not one of your own.

        Every connection is checked as it is made: in production it reaches public addresses only, and
        a URL whose host is (or resolves to) a loopback, private, link-local or cloud-metadata address
        fails with ``httpx.ConnectError`` before anything is sent. Development mode (the
        ``allow_loopback_targets`` setting) also allows loopback. Timeouts are 5 s to connect and
        15 s per read; redirects are not followed unless a request asks (and then every hop is
        checked again); proxies from the environment are ignored and no cookies are kept. The client
        is shared by every plugin and site: pass credentials per request (``headers=...``) and never
        change the client's own headers.
        """
        return self._services.http

    @property
    def log(self) -> logging.Logger:
        """Your plugin's logger (``intellectra.plugins.<name>``); secrets you read are redacted from it."""
        return logging.getLogger(f"intellectra.plugins.{self.integration}")

    def secret(self, name: str) -> str:
        """A decrypted secret of this connection (stored from ``Connected.secrets``)."""
        if self._secrets is None:
            if self.connection is None:
                raise NotConnected(f"{self.integration} is not connected for this site; connect it first "
                                   "under Settings > Integrations.")
            self._secrets = self._services.secrets_of(self.connection)
        if name not in self._secrets:
            raise NotConnected(f"The {self.integration} connection has no stored {name!r}; reconnect it "
                               "under Settings > Integrations.", code="secret_missing")
        value = self._secrets[name]
        register_secret(value)  # from now on, log lines and error texts redact it
        return value

    def has_secret(self, name: str) -> bool:
        """Whether the connection stored a secret ``name`` (``False`` when there is no connection)."""
        try:
            self.secret(name)
        except NotConnected:
            return False
        return True

    def callback_url(self, **params: str) -> str:
        """The absolute URL of ``/integrations/<name>/callback`` with ``params`` (e.g. ``state``)."""
        url = self.url_for(f"/integrations/{self.integration}/callback")
        return f"{url}?{urlencode(params)}" if params else url

    def url_for(self, path: str) -> str:
        """An absolute URL on this host for ``path`` (e.g. your own web route), built from
        ``INTELLECTRA_PUBLIC_URL`` (never from the request that is being answered)."""
        if not self.base_url:
            raise ConfigError("INTELLECTRA_PUBLIC_URL is not set, so this host cannot build the absolute URL "
                              f"{self.integration} asked for; set it to the address users reach this host at.",
                              code="public_url_missing")
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    # effects -----------------------------------------------------------------
    def _effects(self, what: str) -> Effects:
        if not self._applies_effects:
            raise PluginError(f"ctx.{what} only works in a hook call, where the host applies it with the hook's "
                              "results; this context came from for_tenant or for_request.", code="no_effects_here")
        return self.effects

    def set_status(self, status: ConnectionStatus) -> None:
        """Change the connection's state (applied with the rest of the hook's results)."""
        self._effects("set_status").status = status

    def mark_disconnected(self, reason: str) -> None:
        """The provider ended the connection (e.g. the user deauthorized the app there)."""
        self._effects("mark_disconnected").disconnected_reason = reason

    def update_data(self, **data: Any) -> None:
        """Merge non-secret detail into ``connection.data``."""
        self._effects("update_data").data_updates.update(data)

    def deliver(self, *, to: str, json: Mapping[str, Any] | None = None, body: str | None = None,
                event_type: str = "custom", secret: str | None = None) -> None:
        """Queue a POST to ``to`` through the host's outbox (signed if ``secret`` is given, retried)."""
        text = body if body is not None else jsonlib.dumps(dict(json or {}), separators=(",", ":"))
        self._effects("deliver").deliveries.append(OutboundDelivery(target_url=to, body=text,
                                                                    event_type=event_type, secret=secret))

    # services ----------------------------------------------------------------
    @property
    def api_keys(self) -> ApiKeysService:
        """This integration's API keys: ``create``, ``list``, ``revoke``, ``revoke_all``, ``authenticate``."""
        return ApiKeysService(self, self._services)

    @property
    def subscriptions(self) -> SubscriptionsService:
        """This integration's REST-hook targets: ``subscribe``, ``list``, ``get``, ``unsubscribe``..."""
        return SubscriptionsService(self, self._services)

    @property
    def rate_limits(self) -> RateLimitsService:
        """Request limits shared by every process: ``hit(key, per_minute=N)``, ``forget(key)``."""
        return RateLimitsService(self, self._services)

    @property
    def deliveries(self) -> DeliveriesService:
        """What became of this integration's deliveries: ``recent(limit=...)``."""
        return DeliveriesService(self, self._services)

    @property
    def domain_events(self) -> DomainEventsService:
        """The tenant's domain events as delivered, for samples: ``recent(type)``, ``example(type)``."""
        return DomainEventsService(self, self._services)

    @property
    def connections(self) -> ConnectionsService:
        """This integration's connections: ``list``, ``find``, ``connect``, ``recheck``."""
        return ConnectionsService(self, self._services)

    @property
    def event_types(self) -> CatalogueView:
        """The deployment's domain event types by name (core's and every plugin's), read-only."""
        return self._services.event_types

    def store_missed_events(self, events: Sequence[InboundEvent]) -> MissedEvents:
        """Store events your provider's API listed that no webhook brought (missed-event recovery).

        Stored exactly as webhooks are (once per ``external_id``: events that did arrive count as
        duplicates), then processed by ``handle_event``. Raises :class:`core.IntellectraError`
        with the reason when intake refuses them.
        """
        return self._services.store_missed_events(events)

    def find_tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, or ``None``."""
        return self._services.find_tenant(tenant_id)

    def perform_action(self, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Ask the host app to carry out ``action`` for the context's tenant (its ``perform_action``
        hook); ``None`` when the host app does not support it."""
        if self.tenant is None:
            raise PluginError("ctx.perform_action needs a context bound to a tenant (ctx.for_tenant(tenant)).",
                              code="context_without_tenant")
        return self._services.perform_action(self.tenant, action, input)

    # contexts for a tenant ---------------------------------------------------
    def for_tenant(self, tenant: Tenant | str) -> IntegrationContext:
        """This integration's context for ``tenant`` (a :class:`core.Tenant` or its id) and its connection.

        For web routes and CLI commands, which start without a tenant. URLs (``url_for``,
        ``callback_url``) are built from ``INTELLECTRA_PUBLIC_URL``, never from the request being
        answered (its Host header is the client's to choose). Effects (``set_status``, ``deliver``...)
        only work in hook calls and raise here. Raises :class:`core.NotFound` for an unknown tenant id.
        """
        found = tenant if isinstance(tenant, Tenant) else self._services.get_tenant(tenant)
        return IntegrationContext(services=self._services, integration=self.integration, config=self.config,
                                  tenant=found, connection=self._services.connection_of(found.id),
                                  base_url=self.base_url, applies_effects=False)

    async def run_in_threadpool(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Await ``fn(*args, **kwargs)`` — blocking code: the context's services, your provider's API —
        on your plugin's own threads, never on the event loop.

        Use it in ``async`` web handlers where you would use ``starlette.concurrency.run_in_threadpool``:
        your plugin gets at most ``INTELLECTRA_PLUGIN_CONCURRENCY`` (8) threads, so a slow provider holds
        up only your routes, never the host's pages, ``/healthz`` or another plugin. A call that
        outlasts the host's budget (``INTELLECTRA_PLUGIN_TIMEOUT``, 30 s) raises
        :class:`core.PluginTimeout` (504; one that never got a thread,
        :class:`core.PluginBusy`, 503), recorded against your plugin; let it propagate.
        """
        return await self._services.run_in_lane(getattr(fn, "__name__", "a call"), fn, *args, **kwargs)

    def render_page(self, request: Request, directory: Path, template: str,
                    context: Mapping[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
        """An HTML page of your own (a buyer page, a confirmation), rendered like the host's pages.

        ``template`` is a Jinja2 file in ``directory`` (autoescaped); it may ``{% extends "base.html" %}``
        (blocks ``title``, ``header``, ``main``, ``footer``) and use ``csrf_token`` (put it in every form:
        the host refuses a form post without it), ``url(path)`` and ``static(file)`` (the host's
        stylesheet classes: ``panel``, ``button primary``, ``notice``...). The response carries the
        host's security headers (no framing, no caching, a strict Content-Security-Policy).
        """
        return self._services.render_page(request, directory, template, dict(context or {}), status_code)

    async def tenant_of(self, request: Request) -> Tenant | None:
        """The tenant a web request acts for (the ``resolve_tenant`` hook), or ``None``."""
        return await self._services.tenant_of(request)

    async def require_tenant(self, request: Request) -> Tenant:
        """The tenant a web request acts for; a 401 that says how to sign in when there is none."""
        return await self._services.require_tenant(request)

    async def for_request(self, request: Request) -> IntegrationContext:
        """``for_tenant`` for the tenant a web request acts for (401 when there is none)."""
        tenant = await self.require_tenant(request)
        return await self.run_in_threadpool(self.for_tenant, tenant)


def default_status_for(state: ConnectionState, reason: str = "") -> ConnectionStatus:
    return ConnectionStatus(state=state, reason=reason)
