"""Retention: what is finished and older than the window goes, in small batches; nothing waiting ever does.

Rows are written straight into the tables with the states and ages each case needs (runs on SQLite,
and on PostgreSQL with ``INTELLECTRA_TEST_DB=postgres``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.cli import cli
from core.errors import ConfigError
from core.pipeline.retention import PruneReport, RetentionPolicy, parse_duration, prune
from core.store.tables import (
    audit_log,
    connect_states,
    deliveries,
    domain_events,
    inbound_events,
    observations,
    tenants,
)

DAY = timedelta(days=1)
WINDOW = 30 * DAY


class Rows:
    """Writes rows aged relative to ``now`` and tells which of them still exist."""

    def __init__(self, host, now: datetime) -> None:
        self.host, self.now = host, now
        with host.store.begin() as c:
            c.execute(tenants.insert().values(id="tn_1", name="Site", created_at=now - 400 * DAY))

    def inbound(self, id: str, status: str, age: timedelta, *, processed_age: timedelta | None = None) -> str:
        received = self.now - age
        processed = self.now - (processed_age if processed_age is not None else age) \
            if status in ("processed", "ignored") else None
        with self.host.store.begin() as c:
            c.execute(inbound_events.insert().values(
                id=id, integration="fake", external_id=f"ext_{id}", type="thing.paid", account="acct_1",
                tenant_id="tn_1", payload="{}", status=status, attempts=1, next_attempt_at=received,
                received_at=received, processed_at=processed))
        return id

    def domain(self, id: str, age: timedelta, *, inbound: str | None = None) -> str:
        with self.host.store.begin() as c:
            c.execute(domain_events.insert().values(
                id=id, tenant_id="tn_1", type="purchase.completed", version=1, data={}, source="fake",
                inbound_event_id=inbound, occurred_at=self.now - age, created_at=self.now - age))
        return id

    def delivery(self, id: str, status: str, age: timedelta, *, domain: str | None = None,
                 delivered_age: timedelta | None = None) -> str:
        created = self.now - age
        delivered = (self.now - (delivered_age if delivered_age is not None else age)) if status == "delivered" \
            else None
        with self.host.store.begin() as c:
            c.execute(deliveries.insert().values(
                id=id, tenant_id="tn_1", integration="zapier", domain_event_id=domain, event_type="purchase.completed",
                target_url="https://hooks.example.com/…", payload="{}", status=status, attempts=1,
                next_attempt_at=created, created_at=created, delivered_at=delivered))
        return id

    def observation(self, id: str, status: str, age: timedelta, *, domain: str) -> str:
        created = self.now - age
        with self.host.store.begin() as c:
            c.execute(observations.insert().values(
                id=id, domain_event_id=domain, tenant_id="tn_1", integration="slack", event_type="purchase.completed",
                status=status, attempts=1, claims=1, next_attempt_at=created, created_at=created,
                finished_at=None if status == "pending" else created))
        return id

    def connect_state(self, id: str, expired_age: timedelta) -> str:
        with self.host.store.begin() as c:
            c.execute(connect_states.insert().values(id=id, tenant_id="tn_1", integration="fake",
                                                     created_at=self.now - expired_age - DAY,
                                                     expires_at=self.now - expired_age))
        return id

    def audit(self, id: str, age: timedelta) -> str:
        with self.host.store.begin() as c:
            c.execute(audit_log.insert().values(id=id, tenant_id="tn_1", integration="fake", action="connected",
                                                actor="creator", detail={}, created_at=self.now - age))
        return id

    def remaining(self) -> set[str]:
        with self.host.store.read() as c:
            return {row.id for table in (inbound_events, domain_events, deliveries, observations, connect_states,
                                         audit_log)
                    for row in c.execute(select(table.c.id))}


@pytest.fixture
def rows(host, clock):
    return Rows(host, clock.now())


@pytest.fixture
def site(rows):
    """A month and a half of history: finished chains, and rows that still wait for something."""
    made: dict[str, set[str]] = {"gone": set(), "kept": set()}

    def chain(name: str, status: str, age: timedelta, delivery_status: str, fate: str, **kw) -> None:
        event = rows.inbound(f"inb_{name}", status, age, **kw)
        domain = rows.domain(f"dev_{name}", age, inbound=event)
        delivery = rows.delivery(f"msg_{name}", delivery_status, age, domain=domain)
        made[fate] |= {event, domain, delivery}

    chain("old_done", "processed", 40 * DAY, "delivered", "gone")
    chain("old_cancelled", "processed", 35 * DAY, "cancelled", "gone")
    chain("recent_done", "processed", 10 * DAY, "delivered", "kept")
    chain("old_waiting", "processed", 40 * DAY, "pending", "kept")  # its delivery still retries
    chain("old_dead", "processed", 40 * DAY, "dead", "kept")        # an operator may still retry it
    made["gone"].add(rows.inbound("inb_old_ignored", "ignored", 40 * DAY))
    made["kept"].add(rows.inbound("inb_old_pending", "pending", 40 * DAY))
    made["kept"].add(rows.inbound("inb_old_failed", "failed", 40 * DAY))
    made["kept"].add(rows.inbound("inb_replayed", "processed", 40 * DAY, processed_age=DAY))
    made["gone"].add(rows.domain("dev_host_app_old", 40 * DAY))  # emitted by the host app, never delivered
    made["kept"].add(rows.domain("dev_host_app_recent", 2 * DAY))
    made["kept"].add(rows.delivery("msg_redelivered", "delivered", 40 * DAY, delivered_age=DAY))
    made["gone"].add(rows.connect_state("cst_expired_long_ago", 40 * DAY))
    made["kept"].add(rows.connect_state("cst_live", -DAY))
    made["kept"].add(rows.audit("aud_old", 400 * DAY))
    return made


def test_prune_deletes_finished_rows_beyond_the_window_and_keeps_everything_else(host, site, rows):
    report = prune(host, older_than=WINDOW)

    assert rows.remaining() == site["kept"]
    assert report == PruneReport(inbound_events=3, domain_events=3, deliveries=2, connect_states=1, audit_log=0,
                                 batches=report.batches)


def test_an_observed_event_goes_with_its_observations_and_one_still_waiting_stays(host, rows):
    rows.observation("obs_done", "observed", 40 * DAY, domain=rows.domain("ev_observed", 40 * DAY))
    rows.observation("obs_skipped", "skipped", 40 * DAY, domain=rows.domain("ev_skipped", 40 * DAY))
    rows.observation("obs_waiting", "pending", 40 * DAY, domain=rows.domain("ev_waiting", 40 * DAY))
    rows.observation("obs_failed", "failed", 40 * DAY, domain=rows.domain("ev_failed", 40 * DAY))
    report = prune(host, older_than=WINDOW)
    assert (report.observations, report.domain_events) == (2, 2)
    assert rows.remaining() == {"obs_waiting", "ev_waiting", "obs_failed", "ev_failed"}
    assert prune(host, older_than=WINDOW, include_failed=True).observations == 1
    assert rows.remaining() == {"obs_waiting", "ev_waiting"}


def test_pending_failed_and_dead_rows_are_never_deleted_however_old(host, rows):
    kept = {rows.inbound("inb_p", "pending", 900 * DAY), rows.inbound("inb_f", "failed", 900 * DAY),
            rows.delivery("msg_p", "pending", 900 * DAY), rows.delivery("msg_d", "dead", 900 * DAY)}
    prune(host, older_than=DAY)
    assert rows.remaining() == kept


def test_include_failed_also_deletes_failed_events_and_dead_deliveries_beyond_the_window(host, rows):
    old = {rows.inbound("inb_f", "failed", 40 * DAY), rows.delivery("msg_d", "dead", 40 * DAY)}
    recent = {rows.inbound("inb_f2", "failed", DAY), rows.delivery("msg_d2", "dead", DAY),
              rows.inbound("inb_p", "pending", 40 * DAY)}
    report = prune(host, older_than=WINDOW, include_failed=True)
    assert rows.remaining() == recent
    assert (report.inbound_events, report.deliveries) == (1, 1) and old.isdisjoint(rows.remaining())


def test_audit_rows_are_kept_unless_their_own_window_is_given(host, rows):
    rows.audit("aud_old", 400 * DAY)
    recent = rows.audit("aud_recent", 100 * DAY)
    assert prune(host, older_than=WINDOW).audit_log == 0
    assert prune(host, older_than=WINDOW, audit_older_than=365 * DAY).audit_log == 1
    assert rows.remaining() == {recent}


def test_prune_works_in_small_batches_each_its_own_transaction(host, rows):
    for i in range(7):
        rows.inbound(f"inb_{i}", "processed", 40 * DAY)
    report = prune(host, older_than=WINDOW, batch_size=2)
    assert report.inbound_events == 7 and report.batches >= 4
    assert rows.remaining() == set()


def test_rows_kept_on_purpose_never_stop_the_batches_behind_them(host, rows):
    """Pages walk the old rows oldest first, whatever each page keeps; equal timestamps split across pages."""
    kept = set()
    for i in range(9):
        rows.inbound(f"inb_done_{i}", "processed", 40 * DAY)  # all nine at the very same instant
        kept.add(rows.inbound(f"inb_wait_{i}", "pending", 40 * DAY))
    report = prune(host, older_than=WINDOW, batch_size=2)
    assert report.inbound_events == 9
    assert rows.remaining() == kept


def test_a_second_prune_finds_nothing_left_to_delete(host, site):
    prune(host, older_than=WINDOW)
    again = prune(host, older_than=WINDOW)
    assert again.total == 0


# ---------------------------------------------------------------------------------------------- durations

@pytest.mark.parametrize(("text", "expected"), [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("90m", timedelta(minutes=90)),
    ("45s", timedelta(seconds=45)), ("2w", timedelta(weeks=2)), ("1d12h", timedelta(days=1, hours=12)),
    (" 7D ", timedelta(days=7)),
])
def test_durations_are_written_as_number_and_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30 days", "-1d", "0d", "1.5d", "1y"])
def test_a_malformed_duration_says_how_to_write_one(text):
    with pytest.raises(ConfigError, match=r"like 30d, 12h or 90m"):
        parse_duration(text)


def test_the_retention_settings_come_from_the_environment():
    policy = RetentionPolicy.from_env({"INTELLECTRA_RETENTION": "30d", "INTELLECTRA_AUDIT_RETENTION": "400d",
                                       "INTELLECTRA_RETENTION_INTERVAL": "15m"})
    assert (policy.window, policy.audit_window, policy.interval) == (WINDOW, 400 * DAY, timedelta(minutes=15))
    assert RetentionPolicy.from_env({}).window is None
    with pytest.raises(ConfigError, match="INTELLECTRA_RETENTION"):
        RetentionPolicy.from_env({"INTELLECTRA_RETENTION": "forever"})


# ---------------------------------------------------------------------------------------------- on a schedule

async def test_workers_prune_on_a_schedule_when_a_retention_window_is_set(host, rows):
    rows.inbound("inb_old", "processed", 40 * DAY)
    kept = rows.inbound("inb_new", "processed", DAY)
    host.pipeline.retention = RetentionPolicy(window=WINDOW, interval=timedelta(seconds=0.05))
    stop = asyncio.Event()
    workers = asyncio.create_task(host.pipeline.run_workers(stop))
    try:
        for _ in range(200):
            if rows.remaining() == {kept}:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(workers, timeout=10)
    assert rows.remaining() == {kept}


# ---------------------------------------------------------------------------------------------- the command

@pytest.fixture
def run(intellectra_database_url, tmp_path):
    registry = tmp_path / "registry.toml"
    registry.write_text("")
    env = {"INTELLECTRA_DATABASE_URL": intellectra_database_url, "INTELLECTRA_REGISTRY": str(registry),
           "INTELLECTRA_SECRET_KEYS": Fernet.generate_key().decode()}

    def invoke(*args):
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_events_prune_reports_counts_as_json(host, run, clock):
    clock.set(datetime.now(UTC))  # the command runs on the wall clock
    rows = Rows(host, clock.now())
    rows.inbound("inb_old", "processed", 40 * DAY)
    rows.inbound("inb_pending", "pending", 40 * DAY)
    result = run("events", "prune", "--older-than", "30d", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["inbound_events"] == 1 and counts["deliveries"] == 0 and counts["audit_log"] == 0
    assert rows.remaining() == {"inb_pending"}
    text = run("events", "prune", "--older-than", "30d")
    assert text.exit_code == 0 and "Deleted 0 inbound event(s)" in text.output


def test_events_prune_needs_a_duration_it_can_read(run):
    result = run("events", "prune", "--older-than", "a month")
    assert result.exit_code != 0
    assert "like 30d, 12h or 90m" in result.output
