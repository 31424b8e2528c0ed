"""``events`` and ``deliveries``: see what the pipeline did, replay events, re-queue deliveries, and
the domain event types the deployment knows (``events types``).

Listings never print payloads or full target URLs: a target URL can itself be a credential (a
Slack incoming webhook), so only its scheme and host are shown. ``events show ID`` prints one
event's payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import attrs
import click
from rich.progress import Progress

from core.converter import converter
from core.models import Delivery, DeliveryStatus, InboundStatus, StoredEvent

if TYPE_CHECKING:
    from core.host import Host

F = TypeVar("F", bound=Callable[..., Any])

EVENT_STATUSES = click.Choice([s.value for s in InboundStatus])
DELIVERY_STATUSES = click.Choice([s.value for s in DeliveryStatus])
ERROR_WIDTH = 80


def event_row(event: StoredEvent) -> dict[str, Any]:
    row: dict[str, Any] = converter.unstructure(event)
    row.pop("payload", None)
    return row


def delivery_row(delivery: Delivery) -> dict[str, Any]:
    row: dict[str, Any] = converter.unstructure(delivery)
    row["target"] = safe_target(row.pop("target_url"))
    return row


def safe_target(url: str) -> str:
    """``https://hooks.example.com/…``: enough to recognise the target, never a token in its path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…" if parts.netloc else "…"


def _short(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        error = row.get("last_error") or ""
        out.append({**row, "last_error": error if len(error) <= ERROR_WIDTH else error[:ERROR_WIDTH - 1] + "…"})
    return out


def list_filters(noun: str, *, owner: str, states: click.Choice[str]) -> Callable[[F], F]:
    """``--status``, ``--integration``, ``--tenant``, ``--limit`` and ``--json`` of a listing of ``noun``s."""
    from core.cli.output import json_option

    def decorate(func: F) -> F:
        for option in reversed([
                click.option("--status", type=states, help=f"Only {noun}s in this state."),
                click.option("--integration", help=f"Only this {owner}'s {noun}s."),
                click.option("--tenant", "tenant_id", help=f"Only this tenant's {noun}s."),
                click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000)),
                json_option]):
            func = option(func)
        return func

    return decorate


def replay_command(group: click.Group, *, noun: str, owner: str, states: tuple[str, ...], doc: str, force_help: str,
                   replay_one: Callable[[Host, str, bool], Any], count: Callable[..., int],
                   replay_many: Callable[..., int], row: Callable[[Any], dict[str, Any]], queued: str,
                   queued_many: str) -> None:
    """``<group> replay [ID | --status S [--integration NAME]] [--force] [--json]``: one by its ID, or every
    one in a state (with a progress bar)."""
    from core.cli.hosting import get_host
    from core.cli.output import emit_object, json_option

    @group.command("replay", help=doc)
    @click.argument("item_id", metavar=f"[{noun.upper()}_ID]", required=False)
    @click.option("--status", type=click.Choice(list(states)),
                  help=f"Replay every {noun} in this state instead of one ID.")
    @click.option("--integration", help=f"With --status: only this {owner}'s {noun}s.")
    @click.option("--force", is_flag=True, help=force_help)
    @json_option
    @click.pass_context
    def replay(ctx: click.Context, item_id: str | None, status: str | None, integration: str | None, force: bool,
               as_json: bool) -> None:
        if (item_id is None) == (status is None):
            raise click.UsageError(f"Give an {noun} ID or --status failed (not both).")
        host = get_host(ctx)
        if item_id is not None:
            item = replay_one(host, item_id, force)
            if as_json:
                emit_object(row(item), as_json=True)
            else:
                click.echo(queued.format(id=item.id, status=item.status.value))
            return
        assert status is not None
        total = count(host, status=status, integration=integration)
        with Progress(transient=True, disable=as_json) as progress:
            task = progress.add_task(f"Replaying {status} {noun}s", total=total)
            replayed = replay_many(host, status=status, integration=integration,
                                   progress=lambda n: progress.advance(task, n))
        if as_json:
            emit_object({"replayed": replayed}, as_json=True)
        else:
            click.echo(queued_many.format(count=replayed, status=status))


def register(cli: click.Group) -> None:
    """Registers the pipeline's commands."""
    from core.cli.hosting import get_host
    from core.cli.output import emit_listing, emit_object, json_option

    @cli.group()
    def events() -> None:
        """Inbound webhook events (list, show, replay, prune) and the domain event types (types)."""

    @events.command("types")
    @json_option
    def events_types(as_json: bool) -> None:
        """The domain event types this deployment knows: core's, then each loaded plugin's."""
        from core.cli.hosting import _preloaded
        from core.plugins import load_event_catalogue

        loaded = _preloaded.get("plugins")
        catalogue = loaded.catalogue if loaded is not None else load_event_catalogue()[0]
        rows = [{"name": name, "version": spec.version, "title": spec.title, "declared_by": catalogue.owner(name),
                 "fields": [f.name for f in attrs.fields(spec.schema)]} for name, spec in catalogue.items()]
        emit_listing(rows, ["name", "version", "declared_by", "title"], as_json=as_json,  # fields: in --json
                     title="Domain event types", key="event_types")

    @events.command("list")
    @list_filters("event", owner="integration", states=EVENT_STATUSES)
    @click.pass_context
    def events_list(ctx: click.Context, status: str | None, integration: str | None, tenant_id: str | None,
                    limit: int, as_json: bool) -> None:
        """Newest inbound events first, with their state and last error."""
        host = get_host(ctx)
        rows = [event_row(e) for e in host.pipeline.list_events(status=status, integration=integration,
                                                               tenant_id=tenant_id, limit=limit)]
        emit_listing(rows if as_json else _short(rows),
                     ["id", "integration", "type", "status", "attempts", "tenant_id", "received_at", "last_error"],
                     as_json=as_json, title="Inbound events", key="events")

    @events.command("show")
    @click.argument("event_id")
    @json_option
    @click.pass_context
    def events_show(ctx: click.Context, event_id: str, as_json: bool) -> None:
        """One inbound event with its payload."""
        host = get_host(ctx)
        emit_object(converter.unstructure(host.pipeline.get_event(event_id)), as_json=as_json)

    replay_command(events, noun="event", owner="integration", states=("failed", "ignored"),
                   doc="Queue a failed or ignored event (or all of them with --status) for processing again.",
                   force_help="Replay a processed event (its domain events are emitted again).",
                   replay_one=lambda host, event_id, force: host.pipeline.replay_event(event_id, force=force),
                   count=lambda host, **which: host.pipeline.operations.count_events(**which),
                   replay_many=lambda host, **which: host.pipeline.replay_events(**which), row=event_row,
                   queued="Event {id} is queued for processing (status {status}).",
                   queued_many="Queued {count} {status} event(s) for processing.")

    @events.command("prune")
    @click.option("--older-than", "older_than", required=True, metavar="DURATION",
                  help="The retention window: 30d, 12h, 90m, 2w...")
    @click.option("--include-failed", is_flag=True,
                  help="Also delete failed events and dead deliveries beyond the window.")
    @click.option("--audit-older-than", "audit_older_than", metavar="DURATION",
                  help="Also delete audit rows older than this (kept otherwise).")
    @json_option
    @click.pass_context
    def events_prune(ctx: click.Context, older_than: str, include_failed: bool, audit_older_than: str | None,
                     as_json: bool) -> None:
        """Delete finished events and deliveries older than the window, in small batches.

        Processed and ignored inbound events, their domain events, delivered and cancelled deliveries
        and expired connect states go; nothing pending ever does, nor (without --include-failed)
        anything failed or dead."""
        from core.pipeline.retention import parse_duration, prune

        window = parse_duration(older_than, what="--older-than")
        audit_window = parse_duration(audit_older_than, what="--audit-older-than") if audit_older_than else None
        host = get_host(ctx)
        with Progress(transient=True, disable=as_json) as progress:
            task = progress.add_task("Pruning", total=None)
            report = prune(host, older_than=window, include_failed=include_failed, audit_older_than=audit_window,
                           progress=lambda _table, n: progress.advance(task, n))
        if as_json:
            emit_object(report.as_json(), as_json=True)
        else:
            click.echo(f"Deleted {report.inbound_events} inbound event(s), {report.domain_events} domain event(s), "
                       f"{report.deliveries} delivery(ies), {report.observations} observation(s), "
                       f"{report.connect_states} expired connect state(s) and "
                       f"{report.audit_log} audit row(s) older than {older_than.strip()}.")

    @cli.group()
    def deliveries() -> None:
        """Outgoing webhook deliveries: list, retry."""

    @deliveries.command("list")
    @click.option("--status", type=DELIVERY_STATUSES, help="Only deliveries in this state.")
    @click.option("--tenant", "tenant_id", help="Only this tenant's deliveries.")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
    @json_option
    @click.pass_context
    def deliveries_list(ctx: click.Context, status: str | None, tenant_id: str | None, limit: int,
                        as_json: bool) -> None:
        """Newest deliveries first, with attempts, last answer and next attempt."""
        host = get_host(ctx)
        rows = [delivery_row(d) for d in host.pipeline.list_deliveries(status=status, tenant_id=tenant_id,
                                                                       limit=limit)]
        emit_listing(rows if as_json else _short(rows),
                     ["id", "tenant_id", "event_type", "target", "status", "attempts", "last_status_code",
                      "next_attempt_at", "last_error"], as_json=as_json, title="Deliveries", key="deliveries")

    @deliveries.command("retry")
    @click.argument("delivery_id")
    @click.option("--tenant", "tenant_id", help="Refuse unless the delivery belongs to this tenant.")
    @json_option
    @click.pass_context
    def deliveries_retry(ctx: click.Context, delivery_id: str, tenant_id: str | None, as_json: bool) -> None:
        """Send a dead, cancelled or waiting delivery again now, with a fresh retry schedule."""
        host = get_host(ctx)
        delivery = host.pipeline.retry_delivery(delivery_id, tenant_id=tenant_id)
        if as_json:
            emit_object(delivery_row(delivery), as_json=True)
        else:
            click.echo(f"Delivery {delivery.id} is queued to be sent now.")
