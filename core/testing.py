"""The test kit for plugin authors (a pytest plugin, registered through ``pytest11``).

Fixtures:

* ``make_host(plugins=..., registry=..., config=..., clock=...)`` — a host on a throwaway database
  (SQLite by default; PostgreSQL when ``INTELLECTRA_TEST_DB=postgres``) with your plugin registered;
* ``host`` — the same with no plugins; ``clock`` — a :class:`core.clock.ManualClock`;
* ``live_server(app)`` — serves an ASGI app with uvicorn on 127.0.0.1 and returns its URL;
* ``recorder`` — reads back domain events, observations, deliveries and inbound events of a host;
* ``tenant`` — a tenant (and its API token) on ``host``;
* ``chromium`` — Debian's Chromium (``/usr/bin/chromium``) through Playwright, one per test module, never
  a downloaded browser (skipped without it, failed under ``CI=true``); ``screenshot(page, "label")`` saves
  ``test-artifacts/screenshots/<test>-<n>-label.png`` under the pytest root (``screenshots_dir``).

Helpers to test one hook at a time: :func:`connect_directly` (a connected site without your
``connect`` hook) and :func:`call_hook` (one addressed hook, called with its ``ctx`` the way the
host calls it). And :class:`IntegrationConformance`, a test class to subclass so your plugin is
checked against the host's contract (see docs/writing-a-plugin.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from core.clock import ManualClock
from core.host import Host
from core.models import Connected, Connection, DomainEvent, IntegrationInfo, Tenant
from core.plugins import PluginState
from core.registry import RegistryConfig, parse_registry
from core.settings import Settings
from core.store import tables
from core.store.engine import make_engine, upgrade

PG_ADMIN_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip locally; under ``CI=true`` a missing service is a failure, never a skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this must run in CI)")
    pytest.skip(reason)


def postgres_admin_url() -> str:
    return os.environ.get("INTELLECTRA_TEST_PG_ADMIN_URL", PG_ADMIN_DEFAULT)


def postgres_available(url: str | None = None) -> bool:
    try:
        engine = create_engine(url or postgres_admin_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


class PostgresDatabase:
    """A database created for this test session and dropped at its end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"intellectra_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = admin_url.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": self.name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        admin.dispose()


def database_kind() -> str:
    return os.environ.get("INTELLECTRA_TEST_DB", "sqlite").lower()


@pytest.fixture(scope="session")
def _intellectra_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One migrated database per session: a SQLite file to copy, or a PostgreSQL database to truncate."""
    if database_kind() == "postgres":
        if not postgres_available():
            skip_or_fail(f"PostgreSQL is not reachable at {postgres_admin_url()}")
        db = PostgresDatabase(postgres_admin_url())
        engine = make_engine(db.url)
        upgrade(engine)
        engine.dispose()
        yield {"kind": "postgres", "url": db.url}
        db.drop()
        return
    path = tmp_path_factory.mktemp("intellectra-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file we copy
    yield {"kind": "sqlite", "path": path}


@pytest.fixture
def intellectra_database_url(_intellectra_template: dict[str, Any], tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if _intellectra_template["kind"] == "postgres":
        url: str = _intellectra_template["url"]
        engine = make_engine(url)
        names = ", ".join(f'"{t.name}"' for t in reversed(tables.metadata.sorted_tables))
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        engine.dispose()
        return url
    target = tmp_path / "intellectra.db"
    shutil.copyfile(_intellectra_template["path"], target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_host(intellectra_database_url: str, clock: ManualClock) -> Iterator[Callable[..., Host]]:
    """Build hosts on this test's database; every host is closed after the test.

    ``make_host(plugins={"slack": my_module}, config={"slack": {...}}, registry={...}, clock=...,
    settings={...}, sandbox_base_url=None)`` — ``plugins`` are registered like registry entries
    (with their ``config``), ``registry`` is a registry.toml as a dict (loaded as the file would
    be); with ``sandbox_base_url`` the plugins' ``dev_servers`` start as they load, as in
    ``serve --sandbox`` (and stop with the host).
    """
    hosts: list[Host] = []
    keys = Fernet.generate_key().decode()

    def build(*, plugins: Mapping[str, object] | None = None, config: Mapping[str, Mapping[str, Any]] | None = None,
              registry: Mapping[str, Any] | RegistryConfig | None = None, clock_: Any = None,
              settings: Mapping[str, Any] | None = None, real_clock: bool = False,
              sandbox_base_url: str | None = None) -> Host:
        # The public URL is a placeholder on loopback (any port passes the Host check); a test that
        # follows an absolute URL the host builds sets ``public_url`` to its live server's address.
        opts: dict[str, Any] = dict(database_url=intellectra_database_url, secret_keys=keys,
                                    public_url="http://127.0.0.1:8000", allow_loopback_targets=True,
                                    registry_path=Path("/nonexistent/registry.toml"))
        opts.update(settings or {})
        reg = registry if isinstance(registry, RegistryConfig) else parse_registry(registry or {})
        host = Host.create(settings=Settings(**opts), registry=reg, migrate=False,
                           clock=None if real_clock else (clock_ or clock), sandbox_base_url=sandbox_base_url)
        for name, plugin in (plugins or {}).items():
            host.plugins.register(name, plugin, config=(config or {}).get(name, {}))
        hosts.append(host)
        return host

    yield build
    for host in hosts:
        host.close()


@pytest.fixture
def host(make_host: Callable[..., Host]) -> Host:
    return make_host()


@pytest.fixture
def tenant(host: Host) -> Tenant:
    created, _ = host.tenants.create("Test Studio")
    return created


@attrs.define
class Recorder:
    """Reads back what a host wrote, for assertions."""

    host: Host

    def domain_events(self, event_type: str | None = None, *, tenant_id: str | None = None) -> list[DomainEvent]:
        stmt = select(tables.domain_events).order_by(tables.domain_events.c.created_at, tables.domain_events.c.id)
        if event_type:
            stmt = stmt.where(tables.domain_events.c.type == event_type)
        if tenant_id:
            stmt = stmt.where(tables.domain_events.c.tenant_id == tenant_id)
        with self.host.store.read() as c:
            return [DomainEvent(id=r.id, type=r.type, tenant_id=r.tenant_id, version=r.version, data=r.data,
                                occurred_at=r.occurred_at, source=r.source) for r in c.execute(stmt)]

    def deliveries(self, **where: Any) -> list[Any]:
        return self._rows(tables.deliveries, where)

    def inbound_events(self, **where: Any) -> list[Any]:
        return self._rows(tables.inbound_events, where)

    def observations(self, **where: Any) -> list[Any]:
        """Observing plugins' turns at domain events (``host.pipeline.observer.drain()`` takes them)."""
        return self._rows(tables.observations, where)

    def audit(self, **where: Any) -> list[Any]:
        return self._rows(tables.audit_log, where)

    def _rows(self, table: Any, where: Mapping[str, Any]) -> list[Any]:
        stmt = select(table)
        for key, value in where.items():
            stmt = stmt.where(table.c[key] == value)
        with self.host.store.read() as c:
            return list(c.execute(stmt.order_by(table.c.id)).all())


@pytest.fixture
def recorder(host: Host) -> Recorder:
    return Recorder(host)


def connect_directly(host: Host, tenant: Tenant, integration: str, connected: Connected, *,
                     actor: str = "test") -> Connection:
    """Store ``tenant``'s connection to ``integration`` as if its ``connect`` hook had returned
    ``connected`` (secrets encrypted, ``integration.connected`` emitted), without calling the hook:
    a test of another hook starts from a connected site."""
    return host.connections.save_connected(tenant, integration, connected, actor=actor)


def call_hook(host: Host, integration: str, hook: str, *, tenant: Tenant | None = None, **arguments: Any) -> Any:
    """Call ``integration``'s implementation of the addressed ``hook`` as the host does and return its result.

    The hook gets a ``ctx`` for ``tenant`` and its stored connection (and ``tenant`` / ``connection``
    themselves where the hook takes them) plus ``arguments``, e.g.
    ``call_hook(host, "acme", "verify_webhook", request=InboundRequest(...))``. Effects it asks for
    (``ctx.set_status``, ``ctx.deliver``) are not applied: test those through the host's verbs.
    """
    connection = host.connections.find(tenant.id, integration) if tenant is not None else None
    ctx = host.context(integration, tenant=tenant, connection=connection)
    takes = set(getattr(host.plugins.pm.hook, hook).spec.argnames)
    given: dict[str, Any] = {name: value for name, value in (("tenant", tenant), ("connection", connection))
                             if name in takes}
    return host.plugins.call(integration, hook, ctx=ctx, **given, **arguments)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread (real HTTP over loopback)."""

    def __init__(self, app: Any, *, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"live-server-{self.port}", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"live server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def live_server() -> Iterator[Callable[..., str]]:
    """``url = live_server(app)``: serve ``app`` for this test; stopped afterwards."""
    servers: list[LiveServer] = []

    def start(app: Any, *, port: int | None = None) -> str:
        server = LiveServer(app, port=port).start()
        servers.append(server)
        return server.url

    yield start
    for server in reversed(servers):
        with contextlib.suppress(Exception):
            server.stop()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per module. Not per session: Playwright's sync API keeps an event loop running
    in the main thread while it is started, and later tests call ``asyncio.run``."""
    if not CHROMIUM.exists():
        skip_or_fail(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium); "
                     "the browser tests never download a browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def screenshots_dir(request: pytest.FixtureRequest) -> Path:
    """Where ``screenshot`` saves: ``test-artifacts/screenshots`` under the pytest root (override it)."""
    return request.config.rootpath / "test-artifacts" / "screenshots"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, screenshots_dir: Path) -> Callable[..., Path]:
    """``screenshot(page, "connected")`` saves ``<screenshots_dir>/<test>-<n>-connected.png`` (the whole
    page; ``full_page=False`` for the viewport) and returns its path."""
    screenshots_dir.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page: Any, label: str, *, full_page: bool = True) -> Path:
        counter["n"] += 1
        path = screenshots_dir / f"{request.node.name}-{counter['n']:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


class IntegrationConformance:
    """Subclass in your plugin's tests and set ``plugin`` (and ``config``) to check the contract.

        class TestConformance(IntegrationConformance):
            plugin = my_plugin_module
            name = "slack"
            config = {"default_channel": "#sales"}
    """

    plugin: object = None
    name: str = ""
    config: Mapping[str, Any] = {}

    @pytest.fixture
    def conformance_host(self, make_host: Callable[..., Host]) -> Host:
        return make_host(plugins={self.name: self.plugin}, config={self.name: dict(self.config)})

    def test_loads_without_error(self, conformance_host: Host) -> None:
        record = conformance_host.plugins.records[self.name]
        assert record.state is PluginState.LOADED, record.error

    def test_declares_itself_completely(self, conformance_host: Host) -> None:
        info = conformance_host.plugins.get(self.name).info
        assert isinstance(info, IntegrationInfo)
        assert info.name == self.name
        assert info.title.strip(), "IntegrationInfo.title is shown on the settings page card"
        assert len(info.description.strip()) >= 10, "describe what the integration does for a creator"
        assert info.requires_host
        for field in info.connect_fields:
            assert field.name.isidentifier() and field.label.strip(), f"connect field {field!r} needs a name and label"

    def test_config_class_is_attrs_and_hides_secrets(self, conformance_host: Host) -> None:
        record = conformance_host.plugins.get(self.name)
        if record.info is None or record.info.config is None:
            return
        assert attrs.has(record.info.config), "config must be an attrs class (validated through cattrs)"
        from core.secrets_type import Secret

        for field in attrs.fields(type(record.config)):
            value = getattr(record.config, field.name)
            if isinstance(value, Secret):
                assert value.reveal() not in repr(record.config)

    def test_unknown_config_key_is_refused_with_its_path(self, make_host: Callable[..., Host]) -> None:
        bad = {**dict(self.config), "no_such_option_xyz": 1}
        host = make_host(plugins={self.name: self.plugin}, config={self.name: bad})
        record = host.plugins.records[self.name]
        info_has_config = record.state is PluginState.FAILED
        assert info_has_config, "an unknown config key must fail the plugin"
        assert record.error is not None and f"plugins.{self.name}.config" in record.error

    def test_addressed_hooks_are_implemented_as_declared(self, conformance_host: Host) -> None:
        from core.models import Capability

        info = conformance_host.plugins.get(self.name).info
        assert info is not None
        plugins = conformance_host.plugins
        if Capability.CONNECT in info.capabilities:
            assert plugins.implements(self.name, "connect"), "declares connect but has no connect hook"
        if Capability.STATUS in info.capabilities:
            assert plugins.implements(self.name, "status"), "declares status but has no status hook"
        if Capability.WEBHOOKS in info.capabilities:
            assert plugins.implements(self.name, "verify_webhook"), "declares webhooks but cannot verify them"
            assert plugins.implements(self.name, "handle_event"), "declares webhooks but cannot handle them"
        if info.observes:
            assert plugins.implements(self.name, "on_domain_event"), "observes events but has no on_domain_event"
        if info.card_forms:
            assert plugins.implements(self.name, "submit_card_form"), "declares card forms but cannot submit them"

    def test_unsigned_garbage_webhook_is_rejected(self, conformance_host: Host) -> None:
        from core.errors import WebhookRejected
        from core.models import InboundRequest

        if not conformance_host.plugins.implements(self.name, "verify_webhook"):
            return
        ctx = conformance_host.context(self.name)
        request = InboundRequest(integration=self.name, body=b'{"id": "evt_forged"}',
                                 headers={"content-type": "application/json"}, content_type="application/json")
        with pytest.raises(WebhookRejected):
            conformance_host.plugins.call(self.name, "verify_webhook", ctx=ctx, request=request)
