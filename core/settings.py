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
from urllib.parse import urlsplit

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
    public_url: str | None = None
    """Where users and providers reach this host, with any path prefix a host app mounts it under; every
    absolute URL the host hands out starts with it (never with a request's Host header)."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names accepted besides the public URL's own (``INTELLECTRA_ALLOWED_HOSTS``); others get a 400."""
    demo_sign_in: bool = False
    """The sign-in page lists the tenants to sign in as, without a token: set by ``serve --sandbox`` only."""
    throwaway_secret_key: bool = False
    """Without ``secret_keys``, encrypt with a random key that dies with the process: tests only."""
    allow_loopback_targets: bool = False
    """Delivery targets on 127.0.0.1 are accepted (``INTELLECTRA_ALLOW_LOOPBACK_TARGETS=1``, or the sandbox)."""
    max_body_bytes: int = 512 * 1024
    session_secret: str | None = attrs.field(default=None, repr=False)
    metrics_token: str | None = attrs.field(default=None, repr=False)
    """The operator token (``INTELLECTRA_METRICS_TOKEN``): bearer for ``/healthz/details`` and ``/metrics``."""
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
            public_url=public_url_from(env.get("INTELLECTRA_PUBLIC_URL") or ""),
            allowed_hosts=allowed_hosts_from(env.get("INTELLECTRA_ALLOWED_HOSTS") or ""),
            allow_loopback_targets=env.get("INTELLECTRA_ALLOW_LOOPBACK_TARGETS") == "1",
            max_body_bytes=_positive_int(env, "INTELLECTRA_MAX_BODY_BYTES", 512 * 1024),
            session_secret=env.get("INTELLECTRA_SESSION_SECRET") or None,
            metrics_token=env.get("INTELLECTRA_METRICS_TOKEN") or None,
            plugin_concurrency=_positive_int(env, "INTELLECTRA_PLUGIN_CONCURRENCY", 8, unit="calls"),
            plugin_timeout_seconds=_positive_number(env, "INTELLECTRA_PLUGIN_TIMEOUT", 30.0, unit="seconds"),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def require_public_url(self) -> str:
        """The public URL, or a one-line error saying how to set it (the web app cannot run without it)."""
        if not self.public_url:
            raise ConfigError("INTELLECTRA_PUBLIC_URL is not set: set it to the address users reach this host at, "
                              "with any path prefix (e.g. https://integrations.example.com); only "
                              "`serve --sandbox` runs without it.", code="public_url_missing")
        return self.public_url

    def trusted_hosts(self) -> list[str]:
        """The Host header values the web app answers: the public URL's host, then the allowed ones."""
        own = urlsplit(self.public_url).hostname if self.public_url else None
        return list(dict.fromkeys([*([own] if own else []), *self.allowed_hosts]))


PUBLIC_URL_HELP = ("INTELLECTRA_PUBLIC_URL must be the absolute http(s) address users reach this host at, with any "
                   "path prefix and nothing else (e.g. https://integrations.example.com/app)")


def public_url_from(raw: str) -> str | None:
    """``raw`` checked and without a trailing slash; None when unset."""
    text = raw.strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
        valid = (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query
                 and not parts.fragment and parts.username is None and parts.password is None)
    except ValueError:  # e.g. an unclosed IPv6 bracket or a port that is not a number
        valid = False
    if not valid:
        raise ConfigError(f"{PUBLIC_URL_HELP}, not {raw!r}.", code="config_invalid")
    return text.rstrip("/")


def allowed_hosts_from(raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    bad = [h for h in hosts if any(c in h for c in "/:@ ")]
    if bad:
        raise ConfigError(f"INTELLECTRA_ALLOWED_HOSTS lists host names only, comma-separated (e.g. "
                          f"internal.example.com,10.0.0.7; no scheme, port or path), not {bad[0]!r}.",
                          code="config_invalid")
    return hosts


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
