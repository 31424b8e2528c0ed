"""Administration commands: database, plugins, tenants, connections, secrets."""

from __future__ import annotations

from typing import Any

import click
from cryptography.fernet import Fernet
from rich.progress import Progress
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from core.converter import converter
from core.health import ObserverFailures, stored_observer_failures, with_observer_failures
from core.plugins import PluginHost, PluginState
from core.redact import redact
from core.registry import default_registry_path, load_registry
from core.settings import Settings
from core.store import Store, database_url_from_env
from core.store.problems import DatabaseProblem, explain
from core.store.tables import encrypted_columns


def _cli_host(ctx: click.Context) -> Any:
    from core.cli.hosting import get_host

    return get_host(ctx)


def _echo_reasons(plugins: list[dict[str, Any]]) -> None:
    """Each plugin's load error and stored observer failures, whole, one line each, under the table: a
    table cell would cut or fold them to the terminal's width, and an operator needs every word."""
    for row in plugins:
        if row["error"]:
            click.echo(f"{row['name']} ({row['state']}): {redact(row['error'])}")
        if row["observer_failures"]:
            failures = ObserverFailures(**row["observer_failures"])
            click.echo(f"{row['name']} ({row['state']}): {redact(failures.summary())}")


def _stored_observer_failures() -> dict[str, ObserverFailures]:
    """What every worker recorded of the plugins' observers (``plugins list`` has no host of its own);
    a database that cannot be read is said in one line, and the plugins are listed all the same."""
    url = database_url_from_env()
    try:
        store = Store.from_url(url)
        try:
            return stored_observer_failures(store)
        finally:
            store.dispose()
    except (SQLAlchemyError, DatabaseProblem) as exc:
        click.echo(f"Observers' failures are not shown: {explain(exc, url).message}", err=True)
        return {}


def register(cli: click.Group) -> None:
    from core.cli.output import emit_listing, emit_object, json_option

    @cli.group()
    def db() -> None:
        """The database schema."""

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Apply all migrations to INTELLECTRA_DATABASE_URL (idempotent)."""
        settings = Settings.from_env()
        store = Store.from_url(settings.database_url)
        try:
            store.upgrade()
        finally:
            store.dispose()
        click.echo(f"Database is up to date ({store.dialect}).")

    @cli.command("health")
    @json_option
    @click.pass_context
    def health(ctx: click.Context, as_json: bool) -> None:
        """The operator's view of /healthz: database, every plugin with its errors. Exits 1 unless ok."""
        from core.health import operator_health

        report = operator_health(_cli_host(ctx))
        if as_json:
            emit_object(report, as_json=True)
        else:
            database = report["database"]
            emit_object({"status": report["status"],
                         "database": f"{database['dialect']}, " + ("reachable" if database["ok"]
                                                                  else f"unreachable ({database.get('error')})"),
                         "failed plugins": ", ".join(report["failed_plugins"]) or "none"}, as_json=False)
            emit_listing(report["plugins"], ["name", "state", "version", "source"], as_json=False, title="Plugins")
            _echo_reasons(report["plugins"])
        if report["status"] != "ok":
            ctx.exit(1)

    @cli.group()
    def plugins() -> None:
        """Installed and configured plugins."""

    @plugins.command("list")
    @json_option
    @click.pass_context
    def plugins_list(ctx: click.Context, as_json: bool) -> None:
        """Every plugin the registry names or an entry point offers, with its state and error.

        Exits 1 when an enabled plugin failed to load, so a deploy script can stop on it."""
        from core.cli.hosting import _preloaded

        loaded: PluginHost | None = _preloaded.get("plugins")
        if loaded is None:
            loaded = PluginHost()
            loaded.load_registry(load_registry(default_registry_path()))
        stored = _stored_observer_failures()
        records = [r for r in loaded.records.values() if not r.builtin]
        rows = [with_observer_failures(r.as_json(), stored) for r in records]
        if as_json:
            emit_listing(rows, [], as_json=True, key="plugins")
        else:
            emit_listing(rows, ["name", "version", "source", "state"], as_json=False, title="Plugins")
            _echo_reasons(rows)
        failed = [r.name for r in records if r.state is PluginState.FAILED]
        if failed:
            click.echo(f"Error: {len(failed)} enabled plugin(s) failed to load: {', '.join(failed)}.", err=True)
        failing = [row["name"] for row in rows if row["observer_failures"] and row["observer_failures"]["failed"]]
        for name in failing:
            click.echo(f"Error: {name} gave up observing {stored[name].failed} domain event(s); fix the cause, then "
                       f"`intellectra-integrations observations replay --status failed --integration {name}`.",
                       err=True)
        if failed or failing:
            ctx.exit(1)

    @cli.group()
    def tenants() -> None:
        """Tenants (creators' sites)."""

    @tenants.command("create")
    @click.argument("name")
    @json_option
    @click.pass_context
    def tenants_create(ctx: click.Context, name: str, as_json: bool) -> None:
        """Create a tenant; prints its id and an API bearer token (shown this once)."""
        host = _cli_host(ctx)
        tenant, token = host.tenants.create(name)
        emit_object({"id": tenant.id, "name": tenant.name, "token": token}, as_json=as_json)
        if not as_json:
            click.echo("Keep the token: it is shown only now. Use it as `Authorization: Bearer <token>`.")

    @tenants.command("list")
    @json_option
    @click.pass_context
    def tenants_list(ctx: click.Context, as_json: bool) -> None:
        host = _cli_host(ctx)
        rows = [converter.unstructure(t) for t in host.tenants.list()]
        emit_listing(rows, ["id", "name", "created_at"], as_json=as_json, title="Tenants", key="tenants")

    @cli.group()
    def connections_group() -> None:
        """Tenants' connections to integrations."""

    connections_group.name = "connections"
    cli.add_command(connections_group, "connections")

    @connections_group.command("list")
    @click.option("--tenant", "tenant_id", help="Only this tenant's connections.")
    @click.option("--integration", help="Only this integration.")
    @json_option
    @click.pass_context
    def connections_list(ctx: click.Context, tenant_id: str | None, integration: str | None, as_json: bool) -> None:
        host = _cli_host(ctx)
        rows = [converter.unstructure(c) for c in host.connections.list(tenant_id=tenant_id, integration=integration)]
        emit_listing(rows, ["id", "tenant_id", "integration", "state", "reason", "external_id"], as_json=as_json,
                     title="Connections", key="connections")

    @connections_group.command("status")
    @click.argument("tenant_id")
    @click.argument("integration")
    @click.option("--refresh/--no-refresh", default=True, help="Ask the provider (default) or show what is stored.")
    @json_option
    @click.pass_context
    def connections_status(ctx: click.Context, tenant_id: str, integration: str, refresh: bool, as_json: bool) -> None:
        """The state of one tenant's connection, refreshed from the provider."""
        host = _cli_host(ctx)
        tenant = host.tenants.get(tenant_id)
        connection = host.status(tenant, integration, refresh=refresh)
        out = converter.unstructure(connection)
        if host.plugins.implements(integration, "diagnostics"):
            ctx_ = host.context(integration, tenant=tenant, connection=connection)
            out["diagnostics"] = host.plugins.call(integration, "diagnostics", ctx=ctx_, tenant=tenant,
                                                   connection=connection)
        emit_object(out, as_json=as_json)

    @cli.group()
    def docs() -> None:
        """Generated documentation."""

    @docs.command("hooks")
    @click.option("--output", default="docs/hooks.md", show_default=True, type=click.Path(dir_okay=False))
    def docs_hooks(output: str) -> None:
        """Write the hooks reference from the hook specs' docstrings."""
        from pathlib import Path

        from core.hookdocs import write

        write(Path(output))
        click.echo(f"Wrote {output}")

    @cli.group()
    def secrets() -> None:
        """Encryption keys for secrets at rest."""

    @secrets.command("generate-key")
    def secrets_generate() -> None:
        """Print a new key for INTELLECTRA_SECRET_KEYS (put it first to rotate)."""
        click.echo(Fernet.generate_key().decode())

    @secrets.command("rotate")
    @click.pass_context
    def secrets_rotate(ctx: click.Context) -> None:
        """Re-encrypt every stored secret with the first key of INTELLECTRA_SECRET_KEYS."""
        host = _cli_host(ctx)
        columns = encrypted_columns()
        with host.store.read() as c:
            total = sum(c.execute(select(func.count()).where(col.is_not(None))).scalar_one() for col in columns)
        done = 0
        with Progress(transient=True) as progress:
            task = progress.add_task("Re-encrypting secrets", total=total)
            for column in columns:
                table = column.table
                with host.store.begin() as c:  # one transaction per column: a failure rotates none of it
                    rows = c.execute(select(table.c.id, column).where(column.is_not(None))).all()
                    for row in rows:
                        c.execute(update(table).where(table.c.id == row.id).values(
                            {column.name: host.secrets.rotate(row[1])}))
                        done += 1
                        progress.advance(task)
        click.echo(f"Re-encrypted {done} secret(s) with the first key.")
