"""``Host``: the integration host in one object, for the Intellectra host app, the web layer and the CLI.

Plugins never get it: they get an ``IntegrationContext`` (``core.context``).

    host = Host.create()                       # from the environment and registry.toml
    host.register_host_app(MyHooks(), observes={"purchase.completed"})
    tenant, token = host.tenants.create("Ada's Studio")
    host.emit(tenant.id, "member.created", {...}, conn=conn)  # inside the host app's transaction

The members named in :data:`HOST_APP_API` are the stable host-app API (docs/host-app.md): they keep
their meaning for every host whose ``HOST_API_VERSION`` has the major version in
:data:`HOST_APP_API_VERSION`. Everything else on ``Host`` serves the host's own web layer, CLI and
workers, and may change in any release.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from sqlalchemy import Connection as DB
from sqlalchemy import Engine

from core.apikeys import ApiKeys
from core.builtins import register_builtins
from core.card_forms import CardForms
from core.catalogue import EventCatalogue
from core.clock import Clock, SystemClock
from core.connect_flow import ConnectFlow, ConnectOutcome
from core.connections import Connections
from core.context import IntegrationContext
from core.domain import DomainEvents
from core.errors import ConfigError, IntellectraError, PluginError, Unauthenticated
from core.guarded_transport import guarded_client
from core.models import CardFormResult, Connection, Delivery, DomainEvent, InboundEvent, Tenant
from core.plugin_pool import PluginPool
from core.plugin_services import CatalogueView, HostServices, MissedEvents
from core.plugins import PluginHost
from core.rate_limits import RateLimits
from core.redact import install_log_redaction
from core.registry import RegistryConfig, load_registry
from core.secrets import SecretBox
from core.settings import Settings
from core.store import Store
from core.store.engine import is_up_to_date
from core.subscriptions import Subscriptions
from core.tenants import TenantLookup, Tenants

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    from core.pipeline import Pipeline

log = logging.getLogger("intellectra.host")
T = TypeVar("T")

HOST_APP_API_VERSION = "2"
"""The major ``HOST_API_VERSION`` whose releases all keep :data:`HOST_APP_API` as documented."""

HOST_APP_API = (
    "create",
    "register_host_app",
    "engine",
    "tenants.create",
    "tenants.get",
    "tenants.find",
    "emit",
    "status",
    "submit_card_form",
    "run_workers",
    "close",
)
"""The ``Host`` members a host app may rely on (docs/host-app.md lists the same, a test checks it)."""



class Host:
    def __init__(self, *, settings: Settings, store: Store, plugins: PluginHost, secrets: SecretBox,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self.store = store
        self.plugins = plugins
        self.secrets = secrets
        self.clock: Clock = clock or SystemClock()
        self.tenants = Tenants(store, self.clock)
        clock = self.clock
        self.events = DomainEvents(store=store, clock=clock, secrets=secrets, plugins=plugins,
                                   wake_observers=self._wake_observers)
        self.connections = Connections(store=store, clock=clock, secrets=secrets, plugins=plugins, events=self.events)
        self.flow = ConnectFlow(store=store, clock=clock, secrets=secrets, plugins=plugins,
                                connections=self.connections, contexts=self.context)
        self.card_forms = CardForms(store=store, clock=clock, secrets=secrets, plugins=plugins,
                                    connections=self.connections, contexts=self.context)
        self.subscriptions = Subscriptions(store=store, clock=clock, secrets=secrets, plugins=plugins,
                                           allow_loopback_targets=settings.allow_loopback_targets)
        self.api_keys = ApiKeys(store=store, clock=clock, tenants=self.tenants)
        self.rate_limits = RateLimits(store=store, clock=clock)

    @classmethod
    def create(cls, *, settings: Settings | None = None, registry: RegistryConfig | None = None,
               clock: Clock | None = None, migrate: bool | None = None, builtins: bool = True,
               plugin_filter: set[str] | None = None, plugins: PluginHost | None = None,
               sandbox_base_url: str | None = None) -> Host:
        """Build a host: secrets, store (migrated when embedded or asked), plugins from the registry.

        A start without ``INTELLECTRA_SECRET_KEYS`` is refused (tests may allow a throwaway key;
        ``serve --sandbox`` brings its development key, see ``core.dev_key``).
        """
        settings = settings or Settings.from_env()
        install_log_redaction()
        secrets = SecretBox.from_env_value(settings.secret_keys, allow_throwaway_key=settings.throwaway_secret_key)
        store = Store.from_url(settings.database_url)
        if migrate is None:
            migrate = store.dialect == "sqlite"
        if migrate:
            store.upgrade()
        if sandbox_base_url is not None:  # dev servers start while plugins load: a fresh plugin host
            plugins = PluginHost(dev_servers_for=lambda name: {"ctx": host.loading_context(name, sandbox_base_url),
                                                               "base_url": sandbox_base_url})
            preloaded = False
        else:
            preloaded = plugins is not None
            plugins = plugins or PluginHost()
        host = cls(settings=settings, store=store, plugins=plugins, secrets=secrets, clock=clock)
        if builtins:
            register_builtins(plugins)
        if not preloaded:
            plugins.load_registry(registry if registry is not None else load_registry(settings.registry_path),
                                  only=plugin_filter)
        return host

    @property
    def event_types(self) -> EventCatalogue:
        """The deployment's domain event types (core's and the loaded plugins'), by name."""
        return self.plugins.catalogue

    def check_schema(self) -> None:
        if not is_up_to_date(self.store.engine):
            raise ConfigError("The database schema is not up to date; run `intellectra-integrations db upgrade`.",
                              code="schema_outdated")

    # ------------------------------------------------------------------ plumbing
    @cached_property
    def http(self) -> httpx.Client:
        """The client behind ``ctx.http``: every connection is checked against the address policy."""
        return guarded_client(allow_loopback=self.settings.allow_loopback_targets)

    @cached_property
    def plugin_pool(self) -> PluginPool:
        """Where plugin code called from async code runs: a capped lane of threads per plugin."""
        return PluginPool(max_calls=self.settings.plugin_concurrency,
                          budget_seconds=self.settings.plugin_timeout_seconds,
                          on_overrun=self.plugins.record_overrun, describe=self.plugins.describe_lane)

    async def run_plugin_code(self, integration: str | None, what: str, fn: Callable[..., T], /,
                              *args: Any, **kwargs: Any) -> T:
        """Await ``fn(*args, **kwargs)``, blocking code that calls ``integration``'s hooks (``None``: the
        host app's hooks), on that plugin's lane of threads instead of the event loop.

        For async callers (web handlers, intake): one slow plugin then holds only its own lane's
        threads. Raises :class:`core.PluginBusy` (503) or :class:`core.PluginTimeout`
        (504) when the call runs out of its time budget (``INTELLECTRA_PLUGIN_TIMEOUT``); either is
        recorded against the plugin.
        """
        return await self.plugin_pool.run(self.plugins.lane_of(integration), what, fn, *args, **kwargs)

    @cached_property
    def pipeline(self) -> Pipeline:
        from core.pipeline import Pipeline

        return Pipeline(self)

    def _wake_observers(self) -> None:
        """Observations were committed: wake this process's idle observing loop, if it runs workers."""
        if "pipeline" in self.__dict__:  # never build a pipeline just to wake it
            self.pipeline.notify_new_observations()

    def context(self, integration: str, *, tenant: Tenant | None = None, connection: Connection | None = None,
                base_url: str | None = None, secrets: dict[str, str] | None = None) -> IntegrationContext:
        """The ``ctx`` for a hook call; pass ``secrets`` when they are already decrypted (inside a
        transaction, where a second connection must not be opened)."""
        record = self.plugins.get(integration)
        return IntegrationContext(services=self._services_for(integration), integration=integration,
                                  config=record.config, tenant=tenant, connection=connection,
                                  base_url=base_url or self.settings.public_url or "", secrets=secrets)

    def loading_context(self, integration: str, base_url: str) -> IntegrationContext:
        """The ``ctx`` of a plugin that is still loading (``dev_servers``): no config yet, since its
        development servers' ``config_overrides`` are part of it."""
        return IntegrationContext(services=self._services_for(integration), integration=integration, config=None,
                                  base_url=base_url)

    def _services_for(self, integration: str) -> HostServices:
        return _ServicesFor(self, integration)

    def close(self) -> None:
        """Stop what the host started (development servers, threads) and close its database engine."""
        self.plugins.stop_dev_servers()
        if "pipeline" in self.__dict__:
            self.pipeline.close()
        if "plugin_pool" in self.__dict__:
            self.plugin_pool.close()
        if "http" in self.__dict__:
            self.http.close()
        self.store.dispose()

    def __repr__(self) -> str:
        return f"<Host {self.store!r} plugins={[r.name for r in self.plugins.loaded()]}>"

    # ------------------------------------------------------------------ embedding in the host app
    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine on the host's database, for the host app's own tables beside the host's.

        ``with host.engine.begin() as conn:`` writes your rows, and ``host.emit(..., conn=conn)`` joins the
        same transaction. On SQLite its transactions take the write lock when they begin, so your writes
        never deadlock with the host's workers; on PostgreSQL a connection of your own engine on the same
        database joins just as well.
        """
        return self.store.engine

    def register_host_app(self, hooks: object, *, observes: Iterable[str] = ()) -> None:
        """Plug the host app's answers in: an object (or module) with ``@hookimpl`` methods among
        ``resolve_tenant``, ``perform_action`` and ``observe_domain_event``.

        ``observes`` names the domain event types ``observe_domain_event`` is called for (every tenant's,
        in the workers, after the event's transaction has committed). Call it once, before serving.
        """
        self.plugins.register_host_app(hooks, observes=observes)

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Process inbound events, observers and deliveries until ``stop`` is set.

        For a host app that serves the web app itself: run it beside your server (a mounted ASGI app's
        lifespan never runs, so ``create_app(run_workers=True)`` cannot start them there). Or run
        ``intellectra-integrations worker`` processes instead.
        """
        await self.pipeline.run_workers(stop)

    # ------------------------------------------------------------------ the host app's verbs
    def connect(self, tenant: Tenant, integration: str, form: Mapping[str, str] | None = None, *,
                actor: str = "creator") -> ConnectOutcome:
        return self.flow.start(tenant, integration, form or {}, base_url=self._public_url, actor=actor)

    def complete_connect(self, tenant: Tenant, integration: str, params: Mapping[str, str], *,
                         actor: str = "creator") -> ConnectOutcome:
        return self.flow.complete(tenant, integration, params, base_url=self._public_url, actor=actor)

    def disconnect(self, tenant: Tenant, integration: str, *, actor: str = "creator") -> Connection | None:
        return self.flow.disconnect(tenant, integration, actor=actor, base_url=self._public_url)

    def status(self, tenant: Tenant, integration: str, *, refresh: bool = False) -> Connection:
        """``tenant``'s connection to ``integration`` (state, reason, action URL) as stored, or asked of the
        provider with ``refresh``; ``NotConnected`` if there is none."""
        return self.flow.status(tenant, integration, refresh=refresh, base_url=self._public_url)

    def submit_card_form(self, tenant: Tenant, integration: str, form: str, values: Mapping[str, str], *,
                         actor: str = "creator") -> CardFormResult:
        """Submit one of the integration's card forms (checked, then its ``submit_card_form`` hook)."""
        return self.card_forms.submit(tenant, integration, form, values, base_url=self._public_url, actor=actor)

    @property
    def _public_url(self) -> str:
        """Every absolute URL a hook builds starts here (``INTELLECTRA_PUBLIC_URL``), never at a request's Host."""
        return self.settings.public_url or ""

    def emit(self, tenant_id: str, event_type: str, data: Any, *, conn: DB | None = None) -> DomainEvent:
        """Emit a host-app domain event (``member.created``...); ``conn`` joins your transaction.

        The payload is checked against the type's schema first (``ValidationFailed`` naming the field,
        nothing written); then the event, one delivery per matching subscription and one observation
        per observer are written together, and no plugin code runs.
        """
        return self.events.emit(tenant_id, event_type, data, conn=conn)

    async def tenant_of(self, request: Request) -> Tenant | None:
        """The tenant a web request acts for, asked of the ``resolve_tenant`` hooks once per request;
        ``None`` when nobody answers."""
        if "tenant" in request.state._state:
            return request.state.tenant  # type: ignore[no-any-return]
        tenant = await self.run_plugin_code(None, "resolve_tenant", self.plugins.pm.hook.resolve_tenant,
                                            request=request, tenants=TenantLookup(self.tenants))
        request.state.tenant = tenant
        return tenant  # type: ignore[no-any-return]

    async def require_tenant(self, request: Request) -> Tenant:
        """:meth:`tenant_of`, or ``Unauthenticated`` (401) saying how to sign in."""
        tenant = await self.tenant_of(request)
        if tenant is None:
            raise Unauthenticated("Sign in first: send `Authorization: Bearer <tenant token>` "
                                  "(from `intellectra-integrations tenants create`) or use the settings page.")
        return tenant

    def perform_action(self, tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Ask the host app to carry out ``action`` (the ``perform_action`` hook); ``None``: not supported.

        ``IntellectraError`` (e.g. ``ValidationFailed``) passes through for the caller to show; any
        other failure of the host app's hook is logged and becomes a ``PluginError`` (502) without details.
        """
        try:
            result = self.plugins.pm.hook.perform_action(tenant=tenant, action=action, input=dict(input))
        except IntellectraError:
            raise
        except Exception as exc:
            log.exception("perform_action %s failed", action)
            raise PluginError(f"The site could not perform {action!r} (an internal error was logged). "
                              "Try again later.", code="action_failed", http_status=502) from exc
        return result  # type: ignore[no-any-return]


class _ServicesFor:
    """:class:`core.plugin_services.HostServices` for one integration: what its contexts reach of the host."""

    def __init__(self, host: Host, integration: str) -> None:
        self._host = host
        self.integration = integration
        self.api_keys = host.api_keys
        self.subscriptions = host.subscriptions
        self.rate_limits = host.rate_limits

    def __repr__(self) -> str:
        return f"<HostServices for {self.integration!r}>"

    @property
    def clock(self) -> Clock:
        return self._host.clock

    @property
    def http(self) -> httpx.Client:
        return self._host.http

    @property
    def event_types(self) -> CatalogueView:
        return CatalogueView(self._host.event_types)

    def secrets_of(self, connection: Connection) -> dict[str, str]:
        return self._host.connections.secrets_of(connection.id)

    def find_tenant(self, tenant_id: str) -> Tenant | None:
        return self._host.tenants.find(tenant_id)

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._host.tenants.get(tenant_id)

    def connection_of(self, tenant_id: str) -> Connection | None:
        return self._host.connections.find(tenant_id, self.integration)

    def connections(self, tenant_id: str | None) -> list[Connection]:
        return self._host.connections.list(tenant_id=tenant_id, integration=self.integration)

    def connect(self, tenant: Tenant, *, actor: str) -> Connection | None:
        return self._host.connect(tenant, self.integration, {}, actor=actor).connection

    def recheck(self, tenant: Tenant) -> Connection:
        return self._host.status(tenant, self.integration)

    def recent_deliveries(self, tenant_id: str, *, limit: int, status: str | None) -> list[Delivery]:
        return self._host.pipeline.list_deliveries(status=status, tenant_id=tenant_id, limit=limit,
                                                   integration=self.integration)

    def recent_payloads(self, tenant_id: str, event_type: str, *, limit: int,
                        filters: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        return self._host.events.recent_payloads(tenant_id, event_type, limit=limit, filters=filters)

    def example_payload(self, tenant_id: str, event_type: str) -> dict[str, Any]:
        return self._host.events.example_payload(tenant_id, event_type)

    def store_missed_events(self, events: Sequence[InboundEvent]) -> MissedEvents:
        result = self._host.pipeline.intake.store_events(self.integration, events)
        if not result.ok:
            error = result.body.get("error", {})
            raise IntellectraError(str(error.get("message") or f"intake answered {result.status_code}"),
                                   code=str(error.get("code") or "intake_refused"), http_status=result.status_code)
        return MissedEvents(stored=int(result.body.get("received", 0)),
                            duplicates=int(result.body.get("duplicates", 0)))

    def perform_action(self, tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return self._host.perform_action(tenant, action, input)

    async def run_in_lane(self, what: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return await self._host.run_plugin_code(self.integration, what, fn, *args, **kwargs)

    @staticmethod
    def render_page(request: Request, directory: Path, template: str, context: Mapping[str, Any],
                    status_code: int) -> HTMLResponse:
        # The web app that serves the request renders its pages (core.web.app puts its renderer there).
        render = getattr(request.app.state, "render_plugin_page", None)
        if render is None:
            raise PluginError("ctx.render_page renders pages for requests to the host's web app "
                              "(core.web.app.create_app); this request came to another app.",
                              code="not_a_host_request")
        return render(request, directory, template, context, status_code=status_code)  # type: ignore[no-any-return]

    async def tenant_of(self, request: Request) -> Tenant | None:
        return await self._host.tenant_of(request)

    async def require_tenant(self, request: Request) -> Tenant:
        return await self._host.require_tenant(request)
