"""The host's settings, read from the environment (the external contract in ARCHITECTURE.md).

Development conveniences are separate settings, each named for the one thing it allows, so none
of them can be switched on by accident together with the others: demo sign-in exists only under
``serve --sandbox`` (no environment variable enables it), a throwaway encryption key only in tests,
loopback delivery targets by ``INTELLECTRA_ALLOW_LOOPBACK_TARGETS=1`` or the sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from core.errors import ConfigError
from core.registry import default_registry_path
from core.store.dialect import normalise_url
from core.store.engine import DEFAULT_DATABASE_URL

RETIRED_DEV_SWITCH = (
    "INTELLECTRA_DEV is no longer read (it switched on demo sign-in, a throwaway encryption key and loopback "
    "delivery targets at once); unset it and use `serve --sandbox` for the demo, INTELLECTRA_SECRET_KEYS for "
    "encryption, INTELLECTRA_ALLOW_LOOPBACK_TARGETS=1 for receivers on 127.0.0.1")


@attrs.frozen(kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    registry_path: Path = attrs.field(factory=default_registry_path)
    secret_keys: str | None = attrs.field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:8000"
    demo_sign_in: bool = False
    """The sign-in page lists the tenants to sign in as, without a token: set by ``serve --sandbox`` only."""
    throwaway_secret_key: bool = False
    """Without ``secret_keys``, encrypt with a random key that dies with the process: tests only."""
    allow_loopback_targets: bool = False
    """Delivery targets on 127.0.0.1 are accepted (``INTELLECTRA_ALLOW_LOOPBACK_TARGETS=1``, or the sandbox)."""
    max_body_bytes: int = 512 * 1024
    session_secret: str | None = attrs.field(default=None, repr=False)
    metrics_token: str | None = attrs.field(default=None, repr=False)
    """Bearer token for ``GET /metrics``; unset: the endpoint answers 404."""
    plugin_concurrency: int = 8
    """How many calls one plugin may run at once from web requests and intake (its lane's threads)."""
    plugin_timeout_seconds: float = 30.0
    """How long a web request or webhook waits for one plugin call before answering 504."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        if "INTELLECTRA_DEV" in env:
            raise ConfigError(RETIRED_DEV_SWITCH, code="config_invalid")
        values: dict[str, object] = dict(
            database_url=normalise_url(env.get("INTELLECTRA_DATABASE_URL") or DEFAULT_DATABASE_URL),
            registry_path=Path(env.get("INTELLECTRA_REGISTRY") or "registry.toml"),
            secret_keys=env.get("INTELLECTRA_SECRET_KEYS") or None,
            public_url=env.get("INTELLECTRA_PUBLIC_URL") or "http://127.0.0.1:8000",
            allow_loopback_targets=env.get("INTELLECTRA_ALLOW_LOOPBACK_TARGETS") == "1",
            max_body_bytes=_positive_int(env, "INTELLECTRA_MAX_BODY_BYTES", 512 * 1024),
            session_secret=env.get("INTELLECTRA_SESSION_SECRET") or None,
            metrics_token=env.get("INTELLECTRA_METRICS_TOKEN") or None,
            plugin_concurrency=_positive_int(env, "INTELLECTRA_PLUGIN_CONCURRENCY", 8, unit="calls"),
            plugin_timeout_seconds=_positive_number(env, "INTELLECTRA_PLUGIN_TIMEOUT", 30.0, unit="seconds"),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _positive_int(env: Mapping[str, str], name: str, default: int, *, unit: str = "bytes") -> int:
    raw = env.get(name) or ""
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of {unit} above 0, not {raw!r}.", code="config_invalid")
    return value


def _positive_number(env: Mapping[str, str], name: str, default: float, *, unit: str) -> float:
    raw = env.get(name) or ""
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be a number of {unit} above 0 (e.g. 30 or 2.5), not {raw!r}.",
                          code="config_invalid")
    return value
