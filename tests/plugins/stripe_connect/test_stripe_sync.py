"""Recovering missed events: list them from Stripe per connected account and feed them to intake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner
from stripe_kit import StripeWorld

from core.cli import pipeline_cmds
from core.testing import Recorder
from plugins.stripe_connect.info import NAME
from plugins.stripe_connect.sync import parse_since, register, sync_all

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def a_day_before(world: StripeWorld) -> datetime:
    """Since a day before the sandbox's now (events carry the sandbox's real-time timestamps)."""
    return datetime.fromtimestamp(world.sandbox.sandbox.now(), UTC) - timedelta(days=1)


def missed_sale(world: StripeWorld) -> str:
    """A sale while the host's webhook endpoint was removed from Stripe (the host never heard of it)."""
    site, account_id = world.connected_site()
    for endpoint in world.control("GET", "/webhook_endpoints")["data"]:
        world.control("DELETE", f"/webhook_endpoints/{endpoint['id']}")
    world.buy(site.create_offer().json()["offer"]["checkout_url"])
    return account_id


async def test_sync_stores_the_missed_events_and_the_pipeline_turns_them_into_a_purchase(
        stripe_world: StripeWorld) -> None:
    account_id = missed_sale(stripe_world)
    assert stripe_world.stored_events("checkout.session.completed") == []

    [report] = sync_all(stripe_world.host.context(NAME), a_day_before(stripe_world))
    await stripe_world.host.pipeline.run_once()

    assert report.account_id == account_id and report.error is None
    assert report.stored >= 1
    assert len(Recorder(stripe_world.host).domain_events("purchase.completed")) == 1


async def test_syncing_twice_stores_nothing_new(stripe_world: StripeWorld) -> None:
    missed_sale(stripe_world)
    sync_all(stripe_world.host.context(NAME), a_day_before(stripe_world))

    [again] = sync_all(stripe_world.host.context(NAME), a_day_before(stripe_world))

    assert again.stored == 0
    assert again.duplicates == again.listed > 0


def test_one_unreachable_account_is_reported_without_stopping_the_sync(stripe_world: StripeWorld) -> None:
    stripe_world.connected_site()
    stripe_world.sandbox.stop()

    [report] = sync_all(stripe_world.host.context(NAME), a_day_before(stripe_world))

    assert report.error is not None and "Stripe could not be reached" in report.error


def test_the_command_syncs_every_account_and_summarises(stripe_world: StripeWorld) -> None:
    missed_sale(stripe_world)

    @click.group()
    def cli() -> None:
        """A stand-in for the host's CLI."""

    register(cli)
    since = a_day_before(stripe_world).isoformat()
    result = CliRunner().invoke(cli, ["events", "sync", "stripe_connect", "--since", since],
                                obj={"host": stripe_world.host})

    assert result.exit_code == 0, result.output
    assert "1 account(s)" in result.output
    assert "new event(s) stored" in result.output


def test_the_command_joins_the_hosts_own_events_group() -> None:
    cli = click.Group("intellectra-integrations")
    pipeline_cmds.register(cli)

    register(cli)

    events = cli.commands["events"]
    assert isinstance(events, click.Group)
    assert "list" in events.commands
    assert "stripe_connect" in events.commands["sync"].commands  # type: ignore[attr-defined]


@pytest.mark.parametrize(("value", "expected"), [
    (None, NOW - timedelta(days=30)),
    ("7d", NOW - timedelta(days=7)),
    ("12h", NOW - timedelta(hours=12)),
    ("2026-02-01", datetime(2026, 2, 1, tzinfo=UTC)),
])
def test_since_takes_a_duration_or_a_date(value: str | None, expected: datetime) -> None:
    assert parse_since(value, NOW) == expected


def test_a_since_that_is_neither_is_refused_with_examples() -> None:
    with pytest.raises(click.BadParameter, match="7d"):
        parse_since("last tuesday", NOW)
