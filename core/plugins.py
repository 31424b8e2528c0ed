"""Loading plugins from the registry and entry points, isolating their failures, addressing calls.

A plugin that fails to import, implements a hook that does not exist, has invalid config, needs
another host API version or raises inside a hook is recorded here with its name and the error;
the other plugins and the host go on.
"""

from __future__ import annotations

import difflib
import enum
import importlib
import importlib.metadata
import logging
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import cattrs
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from core import hookspecs
from core.builtins import register_core_vocabulary
from core.catalogue import EventCatalogue
from core.converter import converter, format_errors
from core.devserver import DevServer
from core.errors import ConfigError, IntellectraError, PluginError, PluginNotLoaded
from core.models import HOST_API_VERSION, IntegrationInfo
from core.redact import redact, register_secret
from core.registry import NAME_RE, PluginEntry, RegistryConfig, load_registry, plugin_filter_from_env, resolve_env
from core.secrets_type import Secret

log = logging.getLogger("intellectra.plugins")
ENTRY_POINT_GROUP = "intellectra.integrations"
MAX_RECORDED_ERRORS = 20
HOST_APP = "(host app)"
"""The host app's name wherever it is recorded: its hooks' registration, its observations, its thread
lane. No plugin name looks like it."""
HOST_APP_LANE = HOST_APP
HOST_APP_HOOKS = frozenset({"resolve_tenant", "perform_action", "observe_domain_event"})
"""The hooks a host app implements (``Host.register_host_app``); the others are integrations'."""


class PluginState(enum.StrEnum):
    LOADED = "loaded"
    DISABLED = "disabled"
    FAILED = "failed"


@attrs.define(kw_only=True)
class PluginRecord:
    """What the host knows about one plugin: shown by ``plugins list`` and ``/healthz``."""

    name: str
    source: str
    state: PluginState
    version: str | None = None
    error: str | None = None
    builtin: bool = False
    info: IntegrationInfo | None = None
    config: Any = None
    plugin: object | None = attrs.field(default=None, repr=False)
    runtime_errors: list[str] = attrs.field(factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.info.title if self.info else None,
            "version": self.version,
            "source": self.source,
            "state": self.state.value,
            "builtin": self.builtin,
            "error": self.error,
            "recent_errors": list(self.runtime_errors[-5:]),
        }


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return redact(f"{exc.__class__.__name__}: {text}" if not isinstance(exc, IntellectraError) else text)


def check_host_version(requires: str, name: str) -> None:
    spec_text = requires.strip()
    if spec_text and spec_text[0].isdigit():
        spec_text = f"=={spec_text}"
    try:
        spec = SpecifierSet(spec_text)
    except InvalidSpecifier as exc:
        raise PluginError(f"plugin {name!r} declares requires_host={requires!r}, which is not a version "
                          "specifier; use e.g. \"1.*\" or \">=1.0,<2\"", code="plugin_version_invalid") from exc
    if Version(HOST_API_VERSION) not in spec:
        raise PluginError(f"plugin {name!r} requires host API {requires} but this host provides "
                          f"{HOST_API_VERSION}; install a plugin version made for host API {HOST_API_VERSION}",
                          code="plugin_incompatible")


def structure_config(info: IntegrationInfo, raw: Mapping[str, Any], path: str) -> Any:
    """Validate a plugin's ``config`` table with its attrs class; errors name the key path."""
    resolved = resolve_env(dict(raw), path)
    if info.config is None:
        if resolved:
            raise ConfigError(f"{path}: {info.name} takes no configuration; remove the table",
                              code="config_invalid")
        return None
    try:
        config = converter.structure(resolved, info.config)
    except (cattrs.BaseValidationError, cattrs.ForbiddenExtraKeysError, ValueError, TypeError) as exc:
        raise ConfigError("; ".join(format_errors(exc, path)), code="config_invalid") from exc
    for field in attrs.fields(type(config)) if attrs.has(type(config)) else ():
        value = getattr(config, field.name)
        if isinstance(value, Secret):
            register_secret(value.reveal())
    return config


class PluginHost:
    """The pluggy manager plus the records of every plugin, and addressed/broadcast calls."""

    def __init__(self, *, dev_servers_for: Callable[[str], Mapping[str, Any]] | None = None) -> None:
        """``dev_servers_for`` (``serve --sandbox`` only) gives the hook arguments for ``dev_servers``:
        each plugin's development servers start while it loads, and their ``config_overrides`` are
        merged into its config *before* validation, so a sandbox needs no real credentials."""
        self.dev_servers_for = dev_servers_for
        self.dev_servers: list[tuple[str, DevServer]] = []
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.catalogue = EventCatalogue()
        """The deployment's domain event types: core's, then each loaded plugin's (``event_types``)."""
        self.host_app_observes: frozenset[str] = frozenset()
        """The event types the host app's ``observe_domain_event`` is called for (``register_host_app``)."""
        self._callers: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        register_core_vocabulary(self)

    # ----------------------------------------------------------------- loading
    def load_registry(self, registry: RegistryConfig, *, only: set[str] | None = None) -> None:
        """Load what the registry names (and autoloadable entry points); record every outcome."""
        only = only if only is not None else plugin_filter_from_env()
        entry_points = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        for name, entry in registry.plugins.items():
            if not entry.enabled:
                self._record(name, _source(entry, entry_points), PluginState.DISABLED,
                             error="disabled in registry.toml (enabled = false)")
                continue
            if only is not None and name not in only:
                self._record(name, _source(entry, entry_points), PluginState.DISABLED,
                             error="not in INTELLECTRA_PLUGINS")
                continue
            self.load_entry(entry, entry_points)
        for name, ep in sorted(entry_points.items()):
            if name in registry.plugins:
                continue
            source = f"entry_point:{ep.value}"
            version = ep.dist.version if ep.dist else None
            if not registry.autoload:
                self._record(name, source, PluginState.DISABLED, version=version,
                             error="installed but not named in registry.toml; add [plugins."
                                   f"{name}] or set autoload = true")
            elif only is not None and name not in only:
                self._record(name, source, PluginState.DISABLED, version=version, error="not in INTELLECTRA_PLUGINS")
            else:
                self.load_entry(PluginEntry(name=name, entry_point=name), entry_points)

    def load_entry(self, entry: PluginEntry,
                   entry_points: Mapping[str, importlib.metadata.EntryPoint] | None = None) -> PluginRecord:
        eps = entry_points if entry_points is not None else {
            ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        source = _source(entry, eps)
        version: str | None = None
        try:
            if entry.module:
                plugin: object = importlib.import_module(entry.module)
                version = _module_version(plugin)
            else:
                ep = eps.get(entry.entry_point or entry.name)
                if ep is None:
                    raise PluginError(f"no installed distribution provides entry point "
                                      f"{entry.entry_point or entry.name!r} in group {ENTRY_POINT_GROUP}; "
                                      "pip install the plugin or fix plugins."
                                      f"{entry.name}.entry_point", code="plugin_not_installed")
                version = ep.dist.version if ep.dist else None
                plugin = ep.load()
        except Exception as exc:  # import errors of any kind must not take the host down
            log.error("plugin %s failed to import: %s", entry.name, _describe(exc))
            return self._record(entry.name, source, PluginState.FAILED, version=version,
                                error=f"failed to import: {_describe(exc)}")
        return self.register(entry.name, plugin, source=source, config=entry.config, version=version)

    def register(self, name: str, plugin: object, *, source: str = "inline",
                 config: Mapping[str, Any] | None = None, version: str | None = None) -> PluginRecord:
        """Register an integration plugin object (module or instance); used by tests too."""
        where = f"plugins.{name}"
        try:
            if not NAME_RE.match(name):
                raise PluginError(f"{name!r} is not a valid plugin name (lowercase letters, digits, _)")
            if self.pm.get_plugin(name) is not None:
                raise PluginError(f"a plugin named {name!r} is already loaded")
            try:
                self.pm.register(plugin, name=name)
            except pluggy.PluginValidationError as exc:
                _check_version_before_hooks(plugin, name)
                raise PluginError(f"invalid hook implementation: {exc}") from exc
            self._check_known_hooks(name, plugin)
            info = self._declared_info(name, plugin)
            check_host_version(info.requires_host, name)
            raw_config = {**(config or {}), **self._start_dev_servers(name, plugin)}
            plugin_config = structure_config(info, raw_config, f"{where}.config")
            self.catalogue.declare(name, self._declared_event_types(plugin))
        except Exception as exc:  # declare() is last and adds all or nothing: no types to withdraw here
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._invalidate()
            log.error("plugin %s failed to load: %s", name, _describe(exc))
            return self._record(name, source, PluginState.FAILED, version=version, error=_describe(exc))
        self._invalidate()
        record = self._record(name, source, PluginState.LOADED, version=version or info.version, info=info,
                              config=plugin_config, plugin=plugin)
        log.info("plugin %s loaded from %s", name, source)
        return record

    def _start_dev_servers(self, name: str, plugin: object) -> dict[str, Any]:
        if self.dev_servers_for is None:
            return {}
        impls = [i for i in self.pm.hook.dev_servers.get_hookimpls() if i.plugin is plugin]
        if not impls:
            return {}
        kwargs = self.dev_servers_for(name)
        servers: Sequence[object] = impls[0].function(  # type: ignore[assignment]
            **{k: kwargs[k] for k in impls[0].argnames if k in kwargs}) or []
        overrides: dict[str, Any] = {}
        for server in servers:
            if not isinstance(server, DevServer):
                raise PluginError(f"dev_servers returned {type(server).__name__}, expected core.DevServer")
            self.dev_servers.append((name, server))
            overrides.update(server.config_overrides)
        return overrides

    def stop_dev_servers(self) -> None:
        while self.dev_servers:
            _, server = self.dev_servers.pop()
            try:
                server.stop()
            except Exception as exc:  # stopping is best effort; say so
                log.warning("could not stop %s: %s", server.name, _describe(exc))

    def register_builtin(self, name: str, plugin: object) -> None:
        """Built-in behaviour (core's vocabulary, default identity...) is a plugin on the same hooks."""
        self.pm.register(plugin, name=name)
        self.catalogue.declare(name, self._declared_event_types(plugin))
        self._invalidate()
        self.records[name] = PluginRecord(name=name, source="builtin", state=PluginState.LOADED, builtin=True,
                                          plugin=plugin)

    def register_host_app(self, hooks: object, *, observes: Iterable[str] = ()) -> None:
        """The host app's hooks (``Host.register_host_app``), checked before anything relies on them."""
        if HOST_APP in self.records:
            raise ConfigError("A host app is already registered with this host; register one object with all "
                              "of its hooks.", code="host_app_registered")
        wanted = frozenset(observes)
        unknown_types = sorted(t for t in wanted if t not in self.catalogue)
        if unknown_types:
            raise ConfigError(f"register_host_app(observes=...) names unknown event type(s) "
                              f"{', '.join(unknown_types)}; the catalogue has {', '.join(self.catalogue)}.",
                              code="host_app_invalid")
        try:
            self.register_builtin(HOST_APP, hooks)
        except pluggy.PluginValidationError as exc:  # e.g. an argument the hook does not have
            self.unregister(HOST_APP)
            raise ConfigError(f"The host app's hooks do not match their specs: {' '.join(str(exc).split())} "
                              "(see docs/hooks.md).", code="host_app_invalid") from exc
        implemented = {caller.name for caller in self.pm.get_hookcallers(hooks) or []}
        problem = ""
        if implemented - HOST_APP_HOOKS:
            problem = (f"The host app implements {', '.join(sorted(implemented - HOST_APP_HOOKS))}, which a host "
                       f"app cannot; its hooks are {', '.join(sorted(HOST_APP_HOOKS))} (integrations are "
                       "plugins, loaded from registry.toml).")
        elif wanted and "observe_domain_event" not in implemented:
            problem = "register_host_app(observes=...) needs an observe_domain_event hook on the host app to call."
        if problem:
            self.unregister(HOST_APP)
            raise ConfigError(problem, code="host_app_invalid")
        self.host_app_observes = wanted

    def call_host_app(self, hook: str, **kwargs: Any) -> Any:
        """Call the host app's own ``hook`` (never a plugin's implementation of it); failures are recorded
        against the host app (``plugins list``) and raised."""
        record = self.records[HOST_APP]
        try:
            results = self._caller(HOST_APP, hook)(**kwargs)
        except IntellectraError as exc:
            self.record_runtime_error(record, hook, exc)
            raise
        except Exception as exc:
            raise self.record_runtime_error(record, hook, exc) from exc
        return results[0] if results else None

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.catalogue.withdraw(name)
        self.records.pop(name, None)
        self._invalidate()

    def _check_known_hooks(self, name: str, plugin: object) -> None:
        unknown = [caller.name for caller in self.pm.get_hookcallers(plugin) or [] if not caller.has_spec()]
        if unknown:
            known = [n for n in dir(hookspecs) if callable(getattr(self.pm.hook, n, None))]
            hints = []
            for hook in unknown:
                close = difflib.get_close_matches(hook, known, n=1)
                hints.append(f"{hook!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise PluginError(f"implements unknown hook(s) {', '.join(hints)}; "
                              "see docs/hooks.md for the hooks that exist", code="plugin_unknown_hook")

    def _declared_info(self, name: str, plugin: object) -> IntegrationInfo:
        impls = [i for i in self.pm.hook.integration_info.get_hookimpls() if i.plugin is plugin]
        if not impls:
            raise PluginError("does not implement integration_info(); every integration declares itself")
        info = impls[0].function()
        if not isinstance(info, IntegrationInfo):
            raise PluginError(f"integration_info() returned {type(info).__name__}, expected core.IntegrationInfo")
        if info.name != name:
            raise PluginError(f"declares name {info.name!r} but is registered as {name!r}; "
                              "make the registry key (or entry point name) match IntegrationInfo.name")
        return info

    def _declared_event_types(self, plugin: object) -> object:
        impls = [i for i in self.pm.hook.event_types.get_hookimpls() if i.plugin is plugin]
        return impls[0].function() if impls else None

    def _record(self, name: str, source: str, state: PluginState, **fields: Any) -> PluginRecord:
        record = PluginRecord(name=name, source=source, state=state, **fields)
        self.records[name] = record
        return record

    def _invalidate(self) -> None:
        with self._lock:
            self._callers.clear()

    # ----------------------------------------------------------------- queries
    def loaded(self) -> list[PluginRecord]:
        """Loaded integrations (not built-ins), in registry order."""
        return [r for r in self.records.values() if r.state is PluginState.LOADED and not r.builtin]

    def get(self, name: str) -> PluginRecord:
        record = self.records.get(name)
        if record is None or record.state is not PluginState.LOADED or record.builtin:
            reason = f" ({record.state.value}: {record.error})" if record and record.error else ""
            raise PluginNotLoaded(f"integration {name!r} is not loaded{reason}; see `intellectra-integrations "
                                  "plugins list`", code="integration_not_loaded")
        return record

    def implements(self, name: str, hook: str) -> bool:
        plugin = self.records[name].plugin if name in self.records else None
        return any(i.plugin is plugin for i in getattr(self.pm.hook, hook).get_hookimpls())

    # ----------------------------------------------------------------- calling
    def call(self, name: str, hook: str, *, record_refusals: bool = False, **kwargs: Any) -> Any:
        """Call ``hook`` on exactly the plugin that owns integration ``name``.

        Returns that plugin's result (``None`` if it does not implement the hook). Unexpected
        exceptions are recorded against the plugin and re-raised as ``PluginError``. An
        ``IntellectraError`` is the plugin's answer to whoever called and passes through as it is;
        with ``record_refusals`` (a call nobody waits on, e.g. an observer in a worker) it is
        recorded against the plugin too.
        """
        record = self.get(name)
        caller = self._caller(name, hook)
        try:
            results = caller(**kwargs)
        except IntellectraError as exc:
            if record_refusals:
                self.record_runtime_error(record, hook, exc)
            raise
        except Exception as exc:
            raise self.record_runtime_error(record, hook, exc) from exc
        return results[0] if results else None

    def broadcast(self, hook: str, names: Iterable[str] | None = None,
                  kwargs_for: Callable[[PluginRecord], Mapping[str, Any]] | None = None,
                  **kwargs: Any) -> dict[str, Any]:
        """Call ``hook`` on every loaded plugin (or ``names``) one by one, isolating failures.

        Returns ``{name: result}`` for the plugins that implement it and did not fail.
        """
        results: dict[str, Any] = {}
        targets = [self.records[n] for n in names] if names is not None else self.loaded()
        for record in targets:
            if not self.implements(record.name, hook):
                continue
            call_kwargs = dict(kwargs_for(record)) if kwargs_for else kwargs
            try:
                results[record.name] = self.call(record.name, hook, **call_kwargs)
            except Exception as exc:
                if not isinstance(exc, PluginError):
                    self.record_runtime_error(record, hook, exc)
                log.error("plugin %s failed in %s: %s", record.name, hook, _describe(exc))
        return results

    def lane_of(self, name: str | None) -> str:
        """The thread lane for code calling ``name``'s hooks: its own when it is a loaded integration,
        else the host app's (which keeps lanes to the loaded plugins, whatever names requests carry)."""
        record = self.records.get(name) if name is not None else None
        if record is None or record.builtin or record.state is not PluginState.LOADED:
            return HOST_APP_LANE
        return record.name

    def describe_lane(self, lane: str) -> str:
        """Who owns ``lane``, for messages: ``"The Stripe integration"`` or ``"The site's own code"``."""
        record = self.records.get(lane)
        if lane == HOST_APP_LANE or record is None:
            return "The site's own code"
        return f"The {record.info.title if record.info else record.name} integration"

    def record_overrun(self, lane: str, what: str, error: IntellectraError) -> None:
        """A call ran out of its time budget: recorded against the plugin (``plugins list``, ``/healthz``)."""
        record = self.records.get(lane)
        log.warning("%s ran out of its time budget in %s: %s", lane, what, error.code)
        if record is not None:
            record.runtime_errors.append(f"{what}: {error.message}")
            del record.runtime_errors[:-MAX_RECORDED_ERRORS]

    def record_runtime_error(self, record: PluginRecord, hook: str, exc: BaseException) -> PluginError:
        text = f"{hook}: {_describe(exc)}"
        record.runtime_errors.append(text)
        del record.runtime_errors[:-MAX_RECORDED_ERRORS]
        log.error("plugin %s raised in %s: %s\n%s", record.name, hook, _describe(exc),
                  redact("".join(traceback.format_exception(exc)[-3:])))
        title = record.info.title if record.info else record.name
        return PluginError(f"The {title} integration failed ({text}). The error was recorded; "
                           "try again, and if it persists ask the site operator to check `plugins list`.",
                           code="plugin_failed", http_status=502)

    def _caller(self, name: str, hook: str) -> Any:
        key = (name, hook)
        caller = self._callers.get(key)
        if caller is None:
            with self._lock:
                plugin = self.records[name].plugin
                others = [p for p in self.pm.get_plugins() if p is not plugin]
                caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
                self._callers[key] = caller
        return caller


def load_event_catalogue(registry_path: Path | None = None) -> tuple[EventCatalogue, dict[str, str]]:
    """The event catalogue of the deployment a ``registry.toml`` describes (default: the environment's),
    loading its plugins without a database or a host — for generators such as the Zapier app's.

    Also returns the plugins that failed to load, with why: their event types are missing.
    """
    plugins = PluginHost()
    plugins.load_registry(load_registry(registry_path))
    failed = {r.name: r.error or "" for r in plugins.records.values() if r.state is PluginState.FAILED}
    return plugins.catalogue, failed


def _check_version_before_hooks(plugin: object, name: str) -> None:
    """A plugin written for another host API fails on its declared version, not on the first hook
    whose arguments changed: read its ``integration_info`` directly (pluggy refused to register it)."""
    declare = getattr(plugin, "integration_info", None)
    if not callable(declare) or not hasattr(declare, f"{hookspecs.PROJECT_NAME}_impl"):
        return
    try:
        info = declare()
    except Exception:  # the hook error pluggy found is the better message then
        return
    if isinstance(info, IntegrationInfo):
        check_host_version(info.requires_host, name)


def _source(entry: PluginEntry, entry_points: Mapping[str, importlib.metadata.EntryPoint]) -> str:
    if entry.module:
        return f"module:{entry.module}"
    ep = entry_points.get(entry.entry_point or entry.name)
    if ep is not None and ep.dist is not None:
        return f"entry_point:{ep.dist.name}=={ep.dist.version}"
    return f"entry_point:{entry.entry_point or entry.name}"


def _module_version(module: ModuleType | object) -> str | None:
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    top = getattr(module, "__name__", "").split(".")[0]
    for dist in importlib.metadata.packages_distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None
