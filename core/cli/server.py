"""``serve`` and ``worker``."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import signal
import socket

import click

from core.errors import ConfigError
from core.host import Host
from core.settings import Settings


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--host", "bind", default="127.0.0.1", show_default=True, help="Address to bind.")
    @click.option("--port", default=8000, show_default=True, type=int)
    @click.option("--sandbox", is_flag=True, help="Also run the plugins' development servers (the Stripe "
                                                 "sandbox) and wire the plugins to them; seeds demo tenants.")
    @click.option("--workers/--no-workers", default=True, show_default=True,
                  help="Run the event pipeline's workers in this process.")
    @click.pass_context
    def serve(ctx: click.Context, bind: str, port: int, sandbox: bool, workers: bool) -> None:
        """Serve the web app (and, by default, the pipeline's workers) in one process."""
        import uvicorn

        from core.cli.hosting import get_host
        from core.server_stack import uvicorn_options
        from core.web.app import create_app

        listening = bind_port(bind, port)  # first: a busy port is reported before anything starts
        base_url = f"http://{bind}:{port}"
        if not sandbox:
            Settings.from_env().require_public_url()  # before anything starts: one line saying how to set it
        host = get_host(ctx, sandbox_base_url=base_url if sandbox else None, use_dev_key=False)
        host.check_schema()
        report_failed_plugins(host)
        if sandbox:
            from core.sandbox_mode import announce_sandbox

            announce_sandbox(host, base_url=base_url)
        app = create_app(host, run_workers=workers)
        # Everything loaded so far (the host, plugins, libraries) lives as long as the process: keep it
        # out of the garbage collector's full passes, which otherwise walk it all and stall requests.
        gc.collect()
        gc.freeze()
        click.echo(f"Serving on http://{bind}:{port}/settings/integrations")
        server = uvicorn.Server(uvicorn.Config(app, host=bind, port=port, log_level="warning", lifespan="on",
                                               **uvicorn_options()))
        server.run(sockets=[listening])

    @cli.command()
    @click.option("--once", is_flag=True, help="Process what is due now, then exit.")
    @click.pass_context
    def worker(ctx: click.Context, once: bool) -> None:
        """Process stored events and send deliveries (run several against PostgreSQL)."""
        from core import server_stack
        from core.cli.hosting import get_host

        host = get_host(ctx)
        host.check_schema()
        report_failed_plugins(host)

        async def run() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            if once:
                await host.pipeline.run_once()
            else:
                await host.pipeline.run_workers(stop)

        server_stack.run(run())


def bind_port(bind: str, port: int) -> socket.socket:
    """The listening socket, taken before the host starts, so a busy port is the first thing said."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart reuses the port
    try:
        sock.bind((bind, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"Cannot serve on {bind}:{port}: the port is already in use (another server?); stop "
                              "it or choose another port with --port.", code="port_in_use") from exc
        raise ConfigError(f"Cannot serve on {bind}:{port}: {exc.strerror}; choose another --host or --port.",
                          code="port_unavailable") from exc
    # Listening now (uvicorn would only once the app started) lets connections made after "Serving on"
    # wait in the backlog instead of being refused.
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def report_failed_plugins(host: Host) -> None:
    """Each enabled plugin that failed to load, one line each on stderr, before the host claims to run."""
    for record in host.plugins.records.values():
        if record.state.value == "failed" and not record.builtin:
            click.echo(f"Warning: plugin {record.name} is not running: {record.error} "
                       "(see `intellectra-integrations plugins list`)", err=True)
