"""``observations``: see what observing plugins did with domain events, and replay what failed.

An observation is one plugin's turn at one domain event (``on_domain_event``, run by a worker after
the event committed). Listings show its state and last error, never the event's payload.
"""

from __future__ import annotations

from typing import Any

import click
from rich.progress import Progress

from core.cli.pipeline_cmds import _short
from core.converter import converter
from core.models import Observation, ObservationStatus

OBSERVATION_STATUSES = click.Choice([s.value for s in ObservationStatus])


def observation_row(observation: Observation) -> dict[str, Any]:
    row: dict[str, Any] = converter.unstructure(observation)
    return row


def register(cli: click.Group) -> None:
    """Registers the ``observations`` commands."""
    from core.cli import get_host
    from core.cli.output import emit_listing, emit_object, json_option

    @cli.group()
    def observations() -> None:
        """Observing plugins' turns at domain events: list, replay."""

    @observations.command("list")
    @click.option("--status", type=OBSERVATION_STATUSES, help="Only observations in this state.")
    @click.option("--integration", help="Only this plugin's observations.")
    @click.option("--tenant", "tenant_id", help="Only this tenant's observations.")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
    @json_option
    @click.pass_context
    def observations_list(ctx: click.Context, status: str | None, integration: str | None, tenant_id: str | None,
                          limit: int, as_json: bool) -> None:
        """Newest observations first, with their state, attempts and last error."""
        host = get_host(ctx)
        rows = [observation_row(o) for o in host.pipeline.list_observations(
            status=status, integration=integration, tenant_id=tenant_id, limit=limit)]
        emit_listing(rows if as_json else _short(rows),
                     ["id", "integration", "event_type", "status", "attempts", "tenant_id", "next_attempt_at",
                      "last_error"], as_json=as_json, title="Observations", key="observations")

    @observations.command("replay")
    @click.argument("observation_id", required=False)
    @click.option("--status", type=click.Choice(["failed", "skipped"]),
                  help="Replay every observation in this state instead of one ID.")
    @click.option("--integration", help="With --status: only this plugin's observations.")
    @click.option("--force", is_flag=True, help="Replay an observed one (the plugin observes the event again).")
    @json_option
    @click.pass_context
    def observations_replay(ctx: click.Context, observation_id: str | None, status: str | None,
                            integration: str | None, force: bool, as_json: bool) -> None:
        """Queue a failed or skipped observation (or all of them with --status) to be observed again."""
        if (observation_id is None) == (status is None):
            raise click.UsageError("Give an observation ID or --status failed (not both).")
        host = get_host(ctx)
        if observation_id is not None:
            observation = host.pipeline.replay_observation(observation_id, force=force)
            if as_json:
                emit_object(observation_row(observation), as_json=True)
            else:
                click.echo(f"Observation {observation.id} is queued (status {observation.status.value}).")
            return
        assert status is not None
        total = host.pipeline.operations.count_observations(status=status, integration=integration)
        with Progress(transient=True, disable=as_json) as progress:
            task = progress.add_task(f"Replaying {status} observations", total=total)
            replayed = host.pipeline.replay_observations(status=status, integration=integration,
                                                         progress=lambda n: progress.advance(task, n))
        if as_json:
            emit_object({"replayed": replayed}, as_json=True)
        else:
            click.echo(f"Queued {replayed} {status} observation(s) to be observed again.")
