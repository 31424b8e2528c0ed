"""The ``intellectra-integrations`` command line (click; rich for tables and progress)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any, NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from core.cli.hosting import _preloaded, get_host, quiet_plugin_loading
from core.context import IntegrationContext
from core.errors import IntellectraError
from core.redact import redact
from core.registry import default_registry_path
from core.store.engine import DEFAULT_DATABASE_URL


class HostGroup(click.Group):
    """Turns the host's errors into one line on stderr and exit code 1 (``-v`` adds the traceback).

    ``IntellectraError`` says what was wrong and what to do; a database error from SQLAlchemy is
    explained the same way (``core.store.problems``). A command the plugins were to add, while they
    could not be loaded, answers with the reason they could not.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IntellectraError as exc:
            _fail(ctx, exc.message, exc)
        except SQLAlchemyError as exc:
            from core.store.problems import explain

            _fail(ctx, explain(exc, _database_url(ctx)).message, exc)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and _preloaded.get("error") is not None:
            raise _preloaded["error"]
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_commands(ctx, formatter)
        error = _preloaded.get("error")
        if error is not None:
            with formatter.section("Plugin commands"):
                formatter.write_text(f"Not available: {redact(error.message)}")


def _fail(ctx: click.Context, message: str, exc: BaseException) -> NoReturn:
    if ctx.find_root().params.get("verbose"):
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"Error: {redact(message)}", err=True)
    sys.exit(1)


def _database_url(ctx: click.Context) -> str:
    host = (ctx.find_root().obj or {}).get("host")
    if host is not None:
        return host.store.engine.url.render_as_string(hide_password=False)  # type: ignore[no-any-return]
    return os.environ.get("INTELLECTRA_DATABASE_URL") or DEFAULT_DATABASE_URL


def plugin_context(ctx: click.Context, integration: str) -> IntegrationContext:
    """The plugin context of ``integration`` inside a command a plugin added (``cli_commands``).

    Bind it to a tenant with ``.for_tenant(tenant_id)`` (an unknown id is one clear error line).
    """
    return get_host(ctx).context(integration)


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
    from core.cli import admin, observation_cmds, pipeline_cmds, scaffold_cmd, server

    for module in (admin, server, pipeline_cmds, observation_cmds, scaffold_cmd):
        module.register(cli)


_register_commands()



def _plugin_commands() -> None:
    """Plugins add commands through the ``cli_commands`` hook (e.g. ``zapier keys``).

    The plugins loaded here are handed to the host later, so each is imported once per run. Only
    the registry is read (not the database settings), so ``--help`` works whatever the environment.
    A registry that cannot be read is not reported here: the command that needs the plugins reports
    it (once), and ``--help`` says plugin commands are unavailable and why.
    """
    try:
        from core.plugins import PluginHost
        from core.registry import load_registry

        plugins = PluginHost()
        with quiet_plugin_loading():
            plugins.load_registry(load_registry(default_registry_path()))
        plugins.broadcast("cli_commands", cli=cli)
        _preloaded["plugins"] = plugins
    except IntellectraError as exc:
        _preloaded["error"] = exc


def main() -> None:
    _plugin_commands()
    cli(prog_name="intellectra-integrations")
