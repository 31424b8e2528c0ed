"""``serve --sandbox``: its settings, where the plugins' development servers run, and demo tenants.

The servers themselves start while the plugins load (``Host.create(sandbox_base_url=...)``), so
their ``config_overrides`` are part of each plugin's validated config and no real credentials are
needed.
"""

from __future__ import annotations

import attrs
import click

from core.dev_key import dev_key_path, ensure_dev_key, read_dev_key
from core.host import Host
from core.settings import Settings

DEMO_TENANTS = ("Ada's Watercolour Studio", "Grace's Code Academy")


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def sandbox_settings(settings: Settings, *, served_at: str) -> Settings:
    """What ``serve --sandbox`` switches on, and nothing else does: demo sign-in, loopback delivery
    targets and Host names, ``served_at`` as the public URL unless INTELLECTRA_PUBLIC_URL says otherwise,
    and (without ``INTELLECTRA_SECRET_KEYS``) the development key kept beside the database."""
    return attrs.evolve(settings, demo_sign_in=True, allow_loopback_targets=True,
                        public_url=settings.public_url or served_at,
                        allowed_hosts=tuple(dict.fromkeys([*settings.allowed_hosts, *LOOPBACK_HOSTS])),
                        secret_keys=settings.secret_keys or ensure_dev_key(dev_key_path(settings.database_url)))


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
    key_file = dev_key_path(host.settings.database_url)
    if host.settings.secret_keys == read_dev_key(key_file):
        click.echo(f"Development encryption key: {key_file} (the CLI reads it too; never use it in production)")
    tenants = ", ".join(t.name for t in host.tenants.list())
    click.echo(f"Demo tenants: {tenants}")
    click.echo(f"Open {base_url}/login to sign in, then Settings > Integrations.")
