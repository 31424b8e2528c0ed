"""Leases that hold: a worker keeps its claims while its handlers run, and counts an attempt only when a
handler really ran (a claim whose worker died is counted apart, to fail an event that kills workers).

The clock is the test's (``ManualClock``): time moves only when the test says, so "the handlers
outlived the original lease" is a fact of the test, not a race with the machine's speed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fakepay import FakePlugin, thing_paid
from sqlalchemy import select

from core.models import InboundStatus
from core.store.tables import inbound_events

LEASE = 0.6
"""Seconds of the test's clock; the lease is renewed every third of it (real seconds)."""


def claims_until(host):
    with host.store.read() as c:
        return set(c.execute(select(inbound_events.c.claimed_until).where(
            inbound_events.c.claimed_by.is_not(None))).scalars())


def wait_until(condition, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def test_a_batch_whose_handlers_outlive_the_lease_is_processed_exactly_once(fake, make_host, clock, recorder):
    """Handlers run for twice the lease while a second worker keeps trying to claim: the first worker
    renews its claims, so the second gets nothing, and each event is handled and applied once."""
    fake.host.pipeline.configure(lease_seconds=LEASE)
    fake.plugin.gate = threading.Event()
    for n in range(3):
        fake.receive(thing_paid(f"evt_{n}"))
    rival_plugin = FakePlugin()
    rival = make_host(plugins={"fake": rival_plugin})  # another worker on the same database and clock
    rival.pipeline.configure(lease_seconds=LEASE)

    with ThreadPoolExecutor(max_workers=1) as pool:
        batch = pool.submit(fake.host.pipeline.processor.run_batch)
        for _ in range(3):
            assert fake.plugin.started.acquire(timeout=10), "the first worker's handlers did not start"
        for _ in range(4):  # 4 x 0.4 s of the test's clock: well past the original 0.6 s lease
            now = clock.advance(0.4)
            wait_until(lambda now=now: claims_until(fake.host) == {now + timedelta(
                seconds=LEASE)}, "the first worker to renew its claims")
            assert rival.pipeline.processor.run_batch().claimed == 0, "the rival took over a held claim"
        fake.plugin.gate.set()
        report = batch.result(timeout=30)

    assert (report.processed, report.lost) == (3, 0)
    assert rival.pipeline.processor.drain().claimed == 0
    assert rival_plugin.handled == [] and len(fake.plugin.handled) == 3
    assert len(recorder.domain_events("purchase.completed")) == 3
    assert claims_until(fake.host) == set()


def test_a_claim_whose_handler_never_ran_counts_no_attempt(fake, make_host, clock):
    """A worker that claimed an event and died before handling it used no attempt: the event's
    attempts are the handler runs that really happened."""
    fake.receive(thing_paid("evt_1"))
    assert len(fake.host.pipeline.processor.claim()) == 1  # ... and the worker dies here
    clock.advance(fake.host.pipeline.config.lease_seconds + 1)
    assert fake.host.pipeline.processor.drain().processed == 1
    (event,) = fake.host.pipeline.list_events()
    assert (event.status, event.attempts) == (InboundStatus.PROCESSED, 1)


def test_failed_handler_runs_and_dead_workers_are_counted_apart(fake, clock):
    """Two handler failures and two dead workers on an event allowed three attempts: it is still
    pending (neither count reached three), and its error is the handler's, not "the worker died"."""
    fake.host.pipeline.configure(max_attempts=3, retry_base_seconds=1)
    processor = fake.host.pipeline.processor
    fake.plugin.fail_times = 2
    fake.receive(thing_paid("evt_1"))
    for _ in range(2):
        assert processor.run_batch().retried == 1
        clock.advance(3600)
        assert len(processor.claim()) == 1  # a worker claims it and dies
        clock.advance(3600)
    (event,) = fake.host.pipeline.list_events()
    assert (event.status, event.attempts) == (InboundStatus.PENDING, 2)
    assert "the fake provider is down" in (event.last_error or "")
    assert processor.drain().processed == 1


def test_an_event_that_kills_every_worker_fails_saying_so(fake, clock):
    fake.host.pipeline.configure(max_attempts=3)
    fake.receive(thing_paid("evt_1"))
    for _ in range(3):
        assert len(fake.host.pipeline.processor.claim()) == 1  # the worker dies handling it
        clock.advance(fake.host.pipeline.config.lease_seconds + 1)
    assert fake.host.pipeline.processor.claim() == []
    (event,) = fake.host.pipeline.list_events()
    assert (event.status, event.attempts) == (InboundStatus.FAILED, 0)
    assert "started 3 times and never finished" in (event.last_error or "")
    replayed = fake.host.pipeline.replay_event(event.id)
    assert replayed.status is InboundStatus.PENDING
    assert fake.host.pipeline.processor.drain().processed == 1


def test_a_handler_stuck_past_the_hold_limit_lets_its_claims_run_out(fake, make_host, clock):
    """Renewal has a limit: a handler that never returns must not hold its event for ever; after
    ``max_hold_seconds`` its claim runs out and another worker may take the event over."""
    fake.host.pipeline.configure(lease_seconds=LEASE, max_hold_seconds=1.0)
    fake.plugin.gate = threading.Event()
    fake.receive(thing_paid("evt_1"))
    rival = make_host(plugins={"fake": FakePlugin()})
    rival.pipeline.configure(lease_seconds=LEASE)
    with ThreadPoolExecutor(max_workers=1) as pool:
        batch = pool.submit(fake.host.pipeline.processor.run_batch)
        assert fake.plugin.started.acquire(timeout=10)
        clock.advance(1.2)  # past the hold limit: the next renewal does not happen
        time.sleep(LEASE)  # two renewal periods of real time
        clock.advance(LEASE)
        assert rival.pipeline.processor.run_batch().processed == 1
        fake.plugin.gate.set()
        assert batch.result(timeout=30).lost == 1
