"""``serve --sandbox``: say where the plugins' development servers run, and seed demo tenants.

The servers themselves start while the plugins load (``Host.create(sandbox_base_url=...)``), so
their ``config_overrides`` are part of each plugin's validated config and no real credentials are
needed.
"""

from __future__ import annotations

import click

from core.host import Host

DEMO_TENANTS = ("Ada's Watercolour Studio", "Grace's Code Academy")


def seed_demo_tenants(host: Host) -> None:
    """Two demo sites, created once (a restart keeps the ones already in the database)."""
    if host.tenants.list():
        return
    for name in DEMO_TENANTS:
        host.tenants.create(name)


def announce_sandbox(host: Host, *, base_url: str) -> None:
    seed_demo_tenants(host)
    for name, server in host.plugins.dev_servers:
        click.echo(f"{server.name} ({name}): {server.url}  {server.description}")
        for label, url in server.links.items():
            click.echo(f"  {label}: {url}")
    tenants = ", ".join(t.name for t in host.tenants.list())
    click.echo(f"Demo tenants: {tenants}")
    click.echo(f"Open {base_url}/login to sign in, then Settings > Integrations.")
