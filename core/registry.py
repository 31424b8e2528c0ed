"""Reading ``registry.toml``: which plugins this deployment loads, and their configuration.

    autoload = false                     # load entry-point plugins the file does not name?

    [plugins.stripe_connect]
    module = "plugins.stripe_connect"    # or: entry_point = "stripe_connect"
    enabled = true
    [plugins.stripe_connect.config]
    secret_key = "env:STRIPE_SECRET_KEY" # secrets come from the environment, never the file

Errors name the key path (``plugins.stripe_connect.enabled: must be true or false``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from core.errors import ConfigError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ENV_PREFIX = "env:"
KNOWN_TOP_KEYS = {"autoload", "plugins"}
KNOWN_PLUGIN_KEYS = {"module", "entry_point", "enabled", "config"}


@attrs.frozen(kw_only=True)
class PluginEntry:
    """One ``[plugins.<name>]`` table."""

    name: str
    module: str | None = None
    entry_point: str | None = None
    enabled: bool = True
    config: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class RegistryConfig:
    autoload: bool = False
    plugins: Mapping[str, PluginEntry] = attrs.field(factory=dict)
    source: str = "<memory>"


def default_registry_path() -> Path:
    return Path(os.environ.get("INTELLECTRA_REGISTRY") or "registry.toml")


def load_registry(path: Path | None = None) -> RegistryConfig:
    """Read and check the registry file; a missing default file means "no plugins"."""
    path = path or default_registry_path()
    if not path.exists():
        if os.environ.get("INTELLECTRA_REGISTRY"):
            raise ConfigError(f"INTELLECTRA_REGISTRY points to {path}, which does not exist; "
                              "create it or unset the variable.", code="registry_missing")
        return RegistryConfig(source=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # TOML files are UTF-8
        raise ConfigError(f"{path} is not valid TOML: {exc}; fix the syntax.", code="registry_invalid") from exc
    return parse_registry(data, source=str(path))


def parse_registry(data: Mapping[str, Any], *, source: str = "<memory>") -> RegistryConfig:
    """Check the registry's structure (not plugin configs: those need the plugin's class)."""
    errors: list[str] = []
    for key in data:
        if key not in KNOWN_TOP_KEYS:
            errors.append(f"{key}: unknown key; the registry has `autoload` and `[plugins.<name>]` tables")
    autoload = data.get("autoload", False)
    if not isinstance(autoload, bool):
        errors.append("autoload: must be true or false")
        autoload = False
    raw_plugins = data.get("plugins", {})
    plugins: dict[str, PluginEntry] = {}
    if not isinstance(raw_plugins, Mapping):
        errors.append("plugins: must be a table of [plugins.<name>] tables")
        raw_plugins = {}
    for name, table in raw_plugins.items():
        where = f"plugins.{name}"
        if not NAME_RE.match(name):
            errors.append(f"{where}: plugin names are lowercase letters, digits and _ (start with a letter)")
            continue
        if not isinstance(table, Mapping):
            errors.append(f"{where}: must be a table")
            continue
        for key in table:
            if key not in KNOWN_PLUGIN_KEYS:
                errors.append(f"{where}.{key}: unknown key; expected one of {', '.join(sorted(KNOWN_PLUGIN_KEYS))}")
        module, entry_point = table.get("module"), table.get("entry_point")
        if module is not None and not isinstance(module, str):
            errors.append(f"{where}.module: must be a dotted module path string")
        if entry_point is not None and not isinstance(entry_point, str):
            errors.append(f"{where}.entry_point: must be an entry point name string")
        if module and entry_point:
            errors.append(f"{where}: give `module` or `entry_point`, not both")
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            errors.append(f"{where}.enabled: must be true or false")
        config = table.get("config", {})
        if not isinstance(config, Mapping):
            errors.append(f"{where}.config: must be a table")
            config = {}
        plugins[name] = PluginEntry(
            name=name,
            module=module if isinstance(module, str) else None,
            entry_point=entry_point if isinstance(entry_point, str) else (None if module else name),
            enabled=enabled if isinstance(enabled, bool) else False,
            config=dict(config),
        )
    if errors:
        raise ConfigError(f"{source}: " + "; ".join(errors), code="registry_invalid")
    return RegistryConfig(autoload=autoload, plugins=plugins, source=source)


def resolve_env(value: Any, path: str, environ: Mapping[str, str] | None = None) -> Any:
    """Replace ``"env:NAME"`` strings (at any depth) with the environment variable's value."""
    env = os.environ if environ is None else environ
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        var = value[len(ENV_PREFIX):]
        if var not in env or env[var] == "":
            raise ConfigError(f"{path}: environment variable {var} is not set (the registry says {value!r}); "
                              f"set {var} or change the value", code="config_env_missing")
        return env[var]
    if isinstance(value, Mapping):
        return {k: resolve_env(v, f"{path}.{k}", env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env(v, f"{path}[{i}]", env) for i, v in enumerate(value)]
    return value


def plugin_filter_from_env() -> set[str] | None:
    """``INTELLECTRA_PLUGINS=a,b`` limits loading to those names (for debugging)."""
    raw = os.environ.get("INTELLECTRA_PLUGINS")
    if raw is None or not raw.strip():
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}
