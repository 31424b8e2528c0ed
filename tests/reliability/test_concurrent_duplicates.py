"""Several processes on one PostgreSQL database, Stripe sending every event at least once and some
twice at the same moment to different processes: each event is stored once, processed once into
exactly one domain event, and delivered to every subscription under one stable ``webhook-id``.
"""

from __future__ import annotations

import pytest
from harness import checks, figures, sizes
from harness.processes import Fleet, ManagedProcess
from harness.scenario import run_load
from harness.world import Deployment

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_duplicates_sent_to_several_processes_are_stored_processed_and_delivered_once(
        deployment: Deployment, fleet: Fleet, receiver: ManagedProcess) -> None:
    deployment.add_sites(sizes.TENANTS, receiver.url)
    fleet.start(serves=sizes.SERVE_PROCESSES, workers=sizes.WORKER_PROCESSES)

    run = run_load(deployment, fleet, receiver, events=sizes.EVENTS, run_id="dup")

    checks.assert_nothing_lost(run, deployment.subscription_secrets())
    # Intake: of every concurrent pair exactly one request stored the event, the other was a duplicate;
    # over the whole run the host said "received" once per event and "duplicate" for every repeat.
    assert set(run.load.pair_receivers) == {1}, dict(run.load.pair_receivers)
    assert run.load.received == sizes.EVENTS
    assert run.load.duplicates == run.load.pairs + run.load.late_duplicates
    # Nothing went wrong on the way, so nothing was handled twice.
    assert run.ledger.attempts == {1: sizes.EVENTS}
    assert all(p.alive() for p in fleet.processes)
    figures.record("concurrent_duplicates", {
        "events": sizes.EVENTS, "requests": run.load.requests, "concurrent_pairs": run.load.pairs,
        "late_duplicates": run.load.late_duplicates, "answers": dict(run.load.answers),
        "deliveries": run.ledger.deliveries, "repeats_at_receiver": checks.repeats_at_receiver(run),
        "serves": sizes.SERVE_PROCESSES, "workers": sizes.WORKER_PROCESSES, "send_seconds": round(run.load.seconds, 1),
    })

