"""``observations``: see what observing plugins did with domain events, and replay what failed.

An observation is one plugin's turn at one domain event (``on_domain_event``, run by a worker after
the event committed). Listings show its state and last error, never the event's payload.
"""

from __future__ import annotations

from typing import Any

import click

from core.cli.pipeline_cmds import _short, list_filters, replay_command
from core.converter import converter
from core.models import Observation, ObservationStatus

OBSERVATION_STATUSES = click.Choice([s.value for s in ObservationStatus])


def observation_row(observation: Observation) -> dict[str, Any]:
    row: dict[str, Any] = converter.unstructure(observation)
    return row


def register(cli: click.Group) -> None:
    """Registers the ``observations`` commands."""
    from core.cli.hosting import get_host
    from core.cli.output import emit_listing

    @cli.group()
    def observations() -> None:
        """Observing plugins' turns at domain events: list, replay."""

    @observations.command("list")
    @list_filters("observation", owner="plugin", states=OBSERVATION_STATUSES)
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

    replay_command(
        observations, noun="observation", owner="plugin", states=("failed", "skipped"),
        doc="Queue a failed or skipped observation (or all of them with --status) to be observed again.",
        force_help="Replay an observed one (the plugin observes the event again).",
        replay_one=lambda host, observation_id, force: host.pipeline.replay_observation(observation_id, force=force),
        count=lambda host, **which: host.pipeline.operations.count_observations(**which),
        replay_many=lambda host, **which: host.pipeline.replay_observations(**which), row=observation_row,
        queued="Observation {id} is queued (status {status}).",
        queued_many="Queued {count} {status} observation(s) to be observed again.")
