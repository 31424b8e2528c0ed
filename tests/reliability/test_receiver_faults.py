"""The delivery target fails: it answers 500 for a while, then stops answering (timeouts), then recovers.
With the pipeline's clock in the test's hand, each retry happens exactly when the schedule says, no
delivery is ``dead`` before its schedule has run out, and after recovery every delivery arrives under
the ``webhook-id`` it had from the start. A target that never recovers leaves its deliveries ``dead``
— visible in ``deliveries list --status dead`` and sent again by ``deliveries retry``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from harness import arena as arena_mod
from harness.processes import clean_environment, console_script
from harness.receiver import ERROR, OK, TIMEOUT, Receiver

from core.clock import ManualClock
from core.host import Host
from core.pipeline.config import DELIVERY_SCHEDULE
from core.registry import parse_registry
from core.settings import Settings
from core.testing import LiveServer

DELIVERIES_PER_SUBSCRIPTION = 20
TIMEOUT_SECONDS = 2.0
"""The deliverer's timeout here: long enough for a busy machine to answer 40 requests, short enough to wait for."""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with arena_mod.migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    server = LiveServer(app).start()
    try:
        yield app, server.url
    finally:
        server.stop()


@pytest.fixture
def world(database_url: str, receiver: tuple[Receiver, str]) -> Iterator[tuple[Host, ManualClock, Receiver]]:
    """A host with its clock in the test's hand, two subscriptions at the receiver, 40 deliveries queued."""
    clock = ManualClock(datetime.now(UTC))  # starts at the wall clock, so the CLI's "now" is never ahead of it
    settings = Settings(database_url=database_url, secret_keys=Fernet.generate_key().decode(),
                        allow_loopback_targets=True, registry_path=Path("/nonexistent/registry.toml"))
    host = Host.create(settings=settings, registry=parse_registry({}), migrate=False, clock=clock)
    host.pipeline.configure(delivery_timeout_seconds=TIMEOUT_SECONDS)
    app, url = receiver
    app.set_mode(ERROR, hold_seconds=TIMEOUT_SECONDS * 4)
    tenant, _ = host.tenants.create("Receiver Faults")
    for n in range(2):
        host.subscriptions.subscribe(tenant.id, "zapier", event_type="member.created", target_url=f"{url}/hooks/{n}")
    for i in range(DELIVERIES_PER_SUBSCRIPTION):
        host.emit(tenant.id, "member.created", {"member_id": f"m{i}", "email": f"m{i}@example.com"})
    try:
        yield host, clock, app
    finally:
        host.close()


def statuses(host: Host) -> Counter[str]:
    return Counter(d.status.value for d in host.pipeline.list_deliveries(limit=1000))


def send_due(host: Host) -> int:
    """One pass of the deliverer over what is due now; returns how many it tried."""
    return asyncio.run(host.pipeline.run_once()).deliveries.claimed


def test_deliveries_ride_out_errors_and_timeouts_and_all_arrive_after_recovery(
        world: tuple[Host, ManualClock, Receiver]) -> None:
    host, clock, receiver = world
    total = 2 * DELIVERIES_PER_SUBSCRIPTION
    ids = {d.id for d in host.pipeline.list_deliveries(limit=1000)}
    phases = [ERROR, ERROR, TIMEOUT, TIMEOUT, OK]  # attempt 1 at once, then after 5 s, 5 min, 30 min, 2 h

    for attempt, mode in enumerate(phases, start=1):
        receiver.set_mode(mode)
        if attempt > 1:
            wait = DELIVERY_SCHEDULE[attempt - 2]
            clock.advance(wait - 1)
            assert send_due(host) == 0, f"attempt {attempt} came before its {wait} s"
            clock.advance(1)
        assert send_due(host) == total, f"attempt {attempt} did not try every delivery"
        if mode != OK:
            assert statuses(host) == {"pending": total}, "dead before the schedule ran out"

    assert statuses(host) == {"delivered": total}
    assert receiver.delivered_ids() == ids
    copies = Counter(r.webhook_id for r in receiver.received())
    assert set(copies.values()) == {len(phases)}, "each delivery was tried once per step, under one id"
    assert all(len({r.body for r in receiver.received() if r.webhook_id == i}) == 1 for i in ids)


def test_a_target_that_never_recovers_ends_dead_exactly_when_the_schedule_ends_and_can_be_retried(
        world: tuple[Host, ManualClock, Receiver], database_url: str, tmp_path: Path) -> None:
    host, clock, receiver = world
    total = 2 * DELIVERIES_PER_SUBSCRIPTION
    assert send_due(host) == total
    for step, wait in enumerate(DELIVERY_SCHEDULE, start=1):
        assert statuses(host) == {"pending": total}, f"dead after {step} of {len(DELIVERY_SCHEDULE) + 1} attempts"
        clock.advance(wait)
        assert send_due(host) == total
    assert statuses(host) == {"dead": total}
    clock.advance(10 * 24 * 3600)
    assert send_due(host) == 0, "a dead delivery is never sent again by itself"

    registry = tmp_path / "registry.toml"
    registry.write_text("autoload = false\n")
    env = clean_environment({"INTELLECTRA_DATABASE_URL": database_url, "INTELLECTRA_REGISTRY": str(registry),
                             "INTELLECTRA_SECRET_KEYS": host.settings.secret_keys or ""})

    def cli(*args: str) -> str:
        done = subprocess.run([console_script(), *args], env=env, capture_output=True, text=True, timeout=60,
                              cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    dead = json.loads(cli("deliveries", "list", "--status", "dead", "--json", "--limit", "1000"))["deliveries"]
    assert len(dead) == total and all("Gave up after" in d["last_error"] for d in dead)
    retried = dead[0]["id"]
    assert retried in cli("deliveries", "retry", retried)
    receiver.set_mode(OK)
    assert send_due(host) == 1
    assert receiver.delivered_ids() == {retried}
