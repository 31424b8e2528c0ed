"""The host's settings, read from the environment (the external contract in ARCHITECTURE.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from core.errors import ConfigError
from core.registry import default_registry_path
from core.store.dialect import normalise_url
from core.store.engine import DEFAULT_DATABASE_URL


@attrs.frozen(kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    registry_path: Path = attrs.field(factory=default_registry_path)
    secret_keys: str | None = attrs.field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:8000"
    dev_mode: bool = False
    """Sandbox/tests: a throwaway secret key is allowed and loopback delivery targets are accepted."""
    allow_loopback_targets: bool = False
    max_body_bytes: int = 512 * 1024
    session_secret: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        dev = overrides.pop("dev_mode", None)
        dev_mode = bool(dev) if dev is not None else env.get("INTELLECTRA_DEV") == "1"
        values: dict[str, object] = dict(
            database_url=normalise_url(env.get("INTELLECTRA_DATABASE_URL") or DEFAULT_DATABASE_URL),
            registry_path=Path(env.get("INTELLECTRA_REGISTRY") or "registry.toml"),
            secret_keys=env.get("INTELLECTRA_SECRET_KEYS") or None,
            public_url=env.get("INTELLECTRA_PUBLIC_URL") or "http://127.0.0.1:8000",
            dev_mode=dev_mode,
            allow_loopback_targets=dev_mode or env.get("INTELLECTRA_ALLOW_LOOPBACK_TARGETS") == "1",
            max_body_bytes=_positive_int(env, "INTELLECTRA_MAX_BODY_BYTES", 512 * 1024),
            session_secret=env.get("INTELLECTRA_SESSION_SECRET") or None,
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or ""
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of bytes above 0, not {raw!r}.", code="config_invalid")
    return value
