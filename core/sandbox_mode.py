"""``serve --sandbox``: start the plugins' development servers, wire the plugins, seed demo tenants."""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

import attrs
import click

from core.converter import converter
from core.devserver import DevServer
from core.host import Host
from core.plugins import PluginRecord

log = logging.getLogger("intellectra.sandbox")
DEMO_TENANTS = ("Ada's Watercolour Studio", "Grace's Code Academy")


def apply_overrides(record: PluginRecord, overrides: Mapping[str, Any]) -> None:
    """Point a plugin's config at its development server (values typed like the config class)."""
    if record.config is None or not overrides:
        return
    cls = type(record.config)
    attrs.resolve_types(cls)
    fields = attrs.fields_dict(cls)
    typed = {k: converter.structure(v, fields[k].type or object) for k, v in overrides.items() if k in fields}
    record.config = attrs.evolve(record.config, **typed)


def start_sandbox(host: Host, *, base_url: str) -> list[DevServer]:
    servers: list[DevServer] = []
    for name, started in host.plugins.broadcast("dev_servers", host=host, base_url=base_url).items():
        for server in started or []:
            apply_overrides(host.plugins.records[name], server.config_overrides)
            servers.append(server)
            atexit.register(server.stop)
            click.echo(f"{server.name}: {server.url}  {server.description}")
            for label, url in server.links.items():
                click.echo(f"  {label}: {url}")
    if not host.tenants.list():
        for name in DEMO_TENANTS:
            tenant, _ = host.tenants.create(name)
            click.echo(f"Demo tenant: {tenant.name} ({tenant.id})")
    click.echo(f"Open {base_url}/settings/integrations and sign in as a demo tenant.")
    return servers
