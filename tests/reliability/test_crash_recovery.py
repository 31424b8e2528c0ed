"""Processes die without warning — a worker in the middle of a batch, a ``serve`` process in the middle of
a request — again and again during the load, and a supervisor restarts them. Nothing is lost and
nothing takes effect twice: claims of a dead worker run out and are taken over, and an event whose
answer never reached Stripe is sent again and recognised as a duplicate.
"""

from __future__ import annotations

import pytest
from harness import checks, figures, sizes
from harness.chaos import Crashes
from harness.ledger import engine_for
from harness.processes import Fleet, ManagedProcess
from harness.scenario import run_load
from harness.world import Deployment

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LEASE_SECONDS = "15"
"""Short leases so a dead worker's claims come back within the test (production: 60 s / 120 s)."""


def test_workers_and_serve_processes_killed_mid_flight_lose_nothing(
        deployment: Deployment, fleet: Fleet, receiver: ManagedProcess) -> None:
    fleet.env.update(INTELLECTRA_PIPELINE_LEASE_SECONDS=LEASE_SECONDS,
                     INTELLECTRA_PIPELINE_DELIVERY_LEASE_SECONDS=LEASE_SECONDS)
    deployment.add_sites(sizes.TENANTS, receiver.url)
    fleet.start(serves=sizes.SERVE_PROCESSES, workers=sizes.WORKER_PROCESSES)
    watcher = engine_for(deployment.database_url)
    try:
        crashes = Crashes(fleet, watcher, kills=sizes.KILLS)
        run = run_load(deployment, fleet, receiver, events=sizes.FAULT_EVENTS, run_id="crash", chaos=crashes)
    finally:
        watcher.dispose()

    log = crashes.log
    assert log.workers_killed == sizes.KILLS and log.serves_killed == sizes.KILLS
    # The kills really were mid-flight: a worker holding claims, a serve process with requests open.
    assert log.workers_killed_holding_claims >= 1, log
    assert log.serves_killed_with_open_requests >= 1, log
    checks.assert_every_event_stored_once(run)
    checks.assert_every_event_processed_once(run)
    checks.assert_one_delivery_per_subscription(run)
    checks.assert_receiver_has_every_webhook_id(run, deployment.subscription_secrets())
    assert all(p.alive() for p in fleet.processes), "a restarted process died again"
    figures.record("crash_recovery", {
        "events": sizes.FAULT_EVENTS, "requests": run.load.requests, "connection_errors": run.load.connection_errors,
        "answers": dict(run.load.answers), "workers_killed": log.workers_killed,
        "workers_killed_holding_claims": log.workers_killed_holding_claims, "claims_orphaned": log.claims_orphaned,
        "serves_killed": log.serves_killed, "serves_killed_with_open_requests": log.serves_killed_with_open_requests,
        "events_handled_more_than_once": sum(n for claims, n in run.ledger.claims.items() if claims > 1),
        "deliveries": run.ledger.deliveries, "repeats_at_receiver": checks.repeats_at_receiver(run),
    })
