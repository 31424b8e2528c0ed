"""The host of one CLI run: built on first use from the environment, closed when the command ends.

Commands get it with :func:`get_host`; the plugins ``main`` loaded to add their commands
(``_preloaded``) are handed to it, so each plugin is imported once per run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import attrs
import click

from core.dev_key import dev_key_path, read_dev_key
from core.host import Host
from core.settings import Settings

_preloaded: dict[str, Any] = {}
"""What ``main`` loaded before the command ran: ``plugins`` (a plugin host), or the ``error`` that stopped it."""


def get_host(ctx: click.Context, *, sandbox_base_url: str | None = None, use_dev_key: bool = True,
             **settings_overrides: Any) -> Host:
    """The host for this CLI run (built once, closed when the command ends).

    With ``sandbox_base_url`` the plugins' development servers start as the plugins load, with the
    sandbox's settings (``serve --sandbox``). Otherwise, without ``INTELLECTRA_SECRET_KEYS``, the key
    ``serve --sandbox`` keeps beside the database is used when there is one, so what a demo stored
    stays readable; ``use_dev_key=False`` (plain ``serve``) never does."""
    root = ctx.find_root()
    root.ensure_object(dict)
    host = root.obj.get("host")
    if host is None:
        settings = Settings.from_env(**settings_overrides)
        if sandbox_base_url is not None:
            from core.sandbox_mode import sandbox_settings

            settings = sandbox_settings(settings, served_at=sandbox_base_url)
        elif use_dev_key and not settings.secret_keys:
            key = read_dev_key(dev_key_path(settings.database_url))
            settings = attrs.evolve(settings, secret_keys=key) if key else settings
        with quiet_plugin_loading():
            host = Host.create(settings=settings, plugins=_preloaded.pop("plugins", None),
                               sandbox_base_url=sandbox_base_url)
        root.obj["host"] = host
        root.call_on_close(host.close)
    return host  # type: ignore[no-any-return]


@contextlib.contextmanager
def quiet_plugin_loading() -> Iterator[None]:
    """Plugins load without logging their failures: the CLI says them itself, once (``serve`` and
    ``worker`` at start-up, ``plugins list``, ``health``); the loader's log line as well would print
    each twice, or before every command, even ones that never use that plugin."""
    quiet = logging.getLogger("intellectra.plugins")
    quiet.disabled = True
    try:
        yield
    finally:
        quiet.disabled = False
