"""Missed-event recovery: list events from Stripe for each connected account and feed them to intake.

``ctx.store_missed_events`` stores each event once per id, so events that did arrive by webhook are
skipped as duplicates; the workers then process the new ones exactly as if Stripe had delivered them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import click
import stripe
from stripe.params import EventListParams

from core import ConfigError, Connection, ConnectionState, IntegrationContext, IntellectraError

from .client import make_client, on_account, stripe_errors
from .config import StripeConnectConfig
from .handlers import HANDLED_EVENT_TYPES
from .info import NAME
from .webhooks import inbound_event

STRIPE_EVENT_HISTORY = timedelta(days=30)
"""Stripe keeps events for 30 days; ``--since`` defaults to all of them."""


@attrs.define(kw_only=True)
class AccountSync:
    """What one account's sync found."""

    account_id: str
    tenant_id: str
    listed: int = 0
    stored: int = 0
    duplicates: int = 0
    error: str | None = None


def parse_since(value: str | None, now: datetime) -> datetime:
    """``7d`` / ``12h`` / ``30m`` ago, or an ISO date or time (UTC if no zone); default: 30 days ago."""
    if not value:
        return now - STRIPE_EVENT_HISTORY
    match = re.fullmatch(r"(\d+)([dhm])", value.strip())
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return now - timedelta(**{unit: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is neither a duration like 7d / 12h nor an ISO date like "
                                 "2026-01-31.", param_hint="--since") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _syncable(connection: Connection) -> bool:
    return connection.state != ConnectionState.DISCONNECTED and bool(connection.external_id)


def connections_to_sync(ctx: IntegrationContext) -> list[Connection]:
    return [c for c in ctx.connections.list() if _syncable(c)]


def _events(client: stripe.StripeClient, account_id: str, since: datetime) -> Iterator[dict[str, Any]]:
    params: EventListParams = {"created": {"gte": int(since.timestamp())}, "limit": 100,
                              "types": list(HANDLED_EVENT_TYPES)}
    page = client.v1.events.list(params, on_account(account_id))
    for event in page.auto_paging_iter():
        data = event.to_dict()
        data.setdefault("account", account_id)
        yield data


def sync_account(ctx: IntegrationContext, connection: Connection, since: datetime) -> AccountSync:
    """List one account's events since ``since`` and hand them to intake (duplicates skipped)."""
    config: StripeConnectConfig = ctx.config
    account_id = connection.external_id or ""
    report = AccountSync(account_id=account_id, tenant_id=connection.tenant_id)
    if connection.livemode is not None and connection.livemode != config.livemode:
        report.error = "skipped: the connection and the platform key are in different modes"
        return report
    try:
        with stripe_errors(f"listing the events of {account_id}", error=ConfigError):
            events = [inbound_event(e) for e in _events(make_client(ctx), account_id, since)]
    except ConfigError as exc:
        report.error = exc.message
        return report
    report.listed = len(events)
    if events:
        try:
            stored = ctx.store_missed_events(events)
        except IntellectraError as exc:
            report.error = exc.message
            return report
        report.stored, report.duplicates = stored.stored, stored.duplicates
    return report


def sync_all(ctx: IntegrationContext, since: datetime, *,
             on_account_done: Callable[[AccountSync], None] = lambda _: None) -> list[AccountSync]:
    """Sync every connected account; one account's failure never stops the others."""
    reports = []
    for connection in connections_to_sync(ctx):
        report = sync_account(ctx, connection, since)
        reports.append(report)
        on_account_done(report)
    return reports


def register(cli: click.Group) -> None:
    """``intellectra-integrations events sync stripe_connect [--since 7d]``."""
    events = cli.commands.get("events")
    if not isinstance(events, click.Group):
        @cli.group("events")
        def events_group() -> None:
            """Inbound events: list, replay, sync."""

        events = events_group
    sync = events.commands.get("sync")
    if sync is None:
        @events.group("sync")
        def sync_group() -> None:
            """Recover events an integration's provider sent while this site was not listening."""

        sync = sync_group
    if isinstance(sync, click.Group):
        sync.add_command(sync_command)


@click.command(NAME)
@click.option("--since", default=None, help="How far back: 7d, 12h, 30m, or an ISO date (default: Stripe's "
                                           "30 days of history).")
@click.pass_context
def sync_command(ctx: click.Context, since: str | None) -> None:
    """List events from Stripe for each connected account and store the ones this site missed."""
    from rich.console import Console
    from rich.progress import Progress

    from core.cli import plugin_context

    stripe_ctx = plugin_context(ctx, NAME)
    start = parse_since(since, stripe_ctx.now())
    connections = connections_to_sync(stripe_ctx)
    console = Console()
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("Syncing Stripe events", total=len(connections))

        def done(report: AccountSync) -> None:
            progress.advance(task)
            if report.error:
                progress.console.print(f"[yellow]{report.account_id}[/]: {report.error}")

        reports = sync_all(stripe_ctx, start, on_account_done=done)
    stored = sum(r.stored for r in reports)
    duplicates = sum(r.duplicates for r in reports)
    failed = [r for r in reports if r.error]
    console.print(f"{len(reports)} account(s) since {start.isoformat()}: {stored} new event(s) stored, "
                  f"{duplicates} already received" + (f", {len(failed)} account(s) failed" if failed else "") + ".")
    if failed:
        ctx.exit(1)
