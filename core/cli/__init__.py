"""The ``intellectra-integrations`` command line (click; rich for tables and progress)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from core.errors import IntellectraError
from core.host import Host
from core.redact import redact
from core.settings import Settings


class HostGroup(click.Group):
    """Turns ``IntellectraError`` into a one-line message and exit code 1 (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IntellectraError as exc:
            click.echo(f"Error: {redact(exc.message)}", err=True)
            sys.exit(1)


def get_host(ctx: click.Context, *, sandbox_base_url: str | None = None, **settings_overrides: Any) -> Host:
    """The host for this CLI run (built once, closed when the command ends).

    With ``sandbox_base_url`` the plugins' development servers start as the plugins load
    (``serve --sandbox``)."""
    root = ctx.find_root()
    root.ensure_object(dict)
    host = root.obj.get("host")
    if host is None:
        settings = Settings.from_env(**settings_overrides)
        host = Host.create(settings=settings, plugins=_preloaded.pop("plugins", None),
                           sandbox_base_url=sandbox_base_url)
        root.obj["host"] = host
        root.call_on_close(host.close)
    return host  # type: ignore[no-any-return]


@click.group(cls=HostGroup)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="intellectra-integrations")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Intellectra's integration host: Stripe Connect, Zapier and third-party integrations."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Third-party loggers that print what the host cannot redact: the stripe library logs response
    # bodies (OAuth tokens) at DEBUG, httpx logs full request URLs (a target URL can be a
    # credential) at INFO. The host's own log lines say what happened without them.
    for name, floor in (("stripe", logging.INFO), ("httpx", logging.WARNING), ("httpcore", logging.WARNING)):
        logging.getLogger(name).setLevel(max(level, floor))
    ctx.ensure_object(dict)


def _register_commands() -> None:
    from core.cli import admin, pipeline_cmds, scaffold_cmd, server

    for module in (admin, server, pipeline_cmds, scaffold_cmd):
        module.register(cli)


_register_commands()


_preloaded: dict[str, Any] = {}


def _plugin_commands() -> None:
    """Plugins add commands through the ``cli_commands`` hook (e.g. ``zapier keys``).

    The plugins loaded here are handed to the host later, so each is imported once per run.
    """
    try:
        from core.plugins import PluginHost
        from core.registry import load_registry

        plugins = PluginHost()
        # Failures are recorded (and shown by `plugins list`, the host, /healthz); logging them here
        # too would print them before every command, even ones that never use that plugin.
        quiet = logging.getLogger("intellectra.plugins")
        quiet.disabled = True
        try:
            plugins.load_registry(load_registry(Settings.from_env().registry_path))
        finally:
            quiet.disabled = False
        plugins.broadcast("cli_commands", cli=cli)
        _preloaded["plugins"] = plugins
    except IntellectraError as exc:
        click.echo(f"Warning: plugin commands unavailable: {redact(exc.message)}", err=True)


def main() -> None:
    _plugin_commands()
    cli(prog_name="intellectra-integrations")
