"""``intellectra-integrations zapier ...``: API keys and subscriptions from the command line."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import click

from core.cli import plugin_context
from core.cli.output import emit_listing
from plugins.zapier.connect_flow import create_key, revoke_key
from plugins.zapier.hooks_api import hook_json
from plugins.zapier.info import NAME
from plugins.zapier.keys_api import key_json

KEY_COLUMNS = ["id", "label", "prefix", "created_at", "last_used_at", "revoked_at"]


def listed_hook(hook: dict[str, Any]) -> dict[str, Any]:
    """A hook as listings show it: a Zapier target URL's path is a credential, so only scheme and host."""
    parts = urlsplit(hook["target_url"])
    return {**hook, "target_url": f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "(hidden)"}


def add_commands(cli: click.Group) -> None:
    @cli.group()
    def zapier() -> None:
        """Zapier: API keys and REST-hook subscriptions."""

    @zapier.group()
    def keys() -> None:
        """API keys that Zapier uses for a site (shown once, stored hashed)."""

    @keys.command("create")
    @click.option("--tenant", "tenant_id", required=True, help="The tenant (site) id the key acts for.")
    @click.option("--label", default="", help="A name for the key, e.g. the Zapier account it is for.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
    @click.pass_context
    def keys_create(ctx: click.Context, tenant_id: str, label: str, as_json: bool) -> None:
        """Create an API key and print it once; paste it into Zapier when connecting Intellectra."""
        site = plugin_context(ctx, NAME).for_tenant(tenant_id)
        key, plaintext = create_key(site, label=label, actor="cli")
        # Printed directly, not through the redacting output helpers: this is the one time it is shown.
        if as_json:
            click.echo(json.dumps({**key_json(key), "api_key": plaintext}, indent=2))
            return
        click.echo(f"Created API key {key.id} ({key.label}) for tenant {tenant_id}:\n\n    {plaintext}\n")
        click.echo("Copy it now: it is not shown again. Revoke it with "
                   f"`intellectra-integrations zapier keys revoke {key.id}`.")

    @keys.command("list")
    @click.option("--tenant", "tenant_id", required=True, help="The tenant (site) id.")
    @click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @click.pass_context
    def keys_list(ctx: click.Context, tenant_id: str, include_revoked: bool, as_json: bool) -> None:
        """A site's Zapier keys (never the keys themselves: only their prefix)."""
        site = plugin_context(ctx, NAME).for_tenant(tenant_id)
        rows = [key_json(k) for k in site.api_keys.list(include_revoked=include_revoked)]
        emit_listing(rows, KEY_COLUMNS, as_json=as_json, title="Zapier API keys", key="keys")

    @keys.command("revoke")
    @click.argument("key_id")
    @click.pass_context
    def keys_revoke(ctx: click.Context, key_id: str) -> None:
        """Revoke a key (idempotent): Zapier calls with it get 401 from now on."""
        key = revoke_key(plugin_context(ctx, NAME), key_id, actor="cli")
        click.echo(f"Revoked API key {key.id} ({key.label}).")

    @zapier.group()
    def hooks() -> None:
        """REST-hook subscriptions that Zaps made."""

    @hooks.command("list")
    @click.option("--tenant", "tenant_id", required=True, help="The tenant (site) id.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @click.pass_context
    def hooks_list(ctx: click.Context, tenant_id: str, as_json: bool) -> None:
        """A site's active Zap subscriptions (targets as scheme and host: their path is a credential)."""
        site = plugin_context(ctx, NAME).for_tenant(tenant_id)
        rows = [listed_hook(hook_json(s)) for s in site.subscriptions.list()]
        emit_listing(rows, ["id", "event", "target_url", "filters", "created_at"], as_json=as_json,
                     title="Zapier subscriptions", key="hooks")
