"""The database goes away under the processes. When every connection is cut (``pg_terminate_backend``,
as in a failover), the processes reconnect by themselves — none exits or needs a restart — and the
totals hold. When the database is down, intake answers 503 (Stripe retries later) and never a 2xx
for an event it did not store.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from harness import checks, figures, postgres, sizes
from harness.chaos import Terminations
from harness.ledger import engine_for
from harness.processes import Fleet, ManagedProcess
from harness.scenario import run_load
from harness.stripe_events import make_events
from harness.world import WEBHOOK_SECRET, Deployment
from sqlalchemy import select

from core.store.tables import inbound_events
from core.testing import PostgresDatabase, skip_or_fail

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_every_backend_terminated_during_the_load_processes_reconnect_and_lose_nothing(
        deployment: Deployment, fleet: Fleet, receiver: ManagedProcess, pg_database: PostgresDatabase) -> None:
    # A claim whose commit was cut off comes back after its lease; short leases keep that within the test.
    fleet.env.update(INTELLECTRA_PIPELINE_LEASE_SECONDS="15", INTELLECTRA_PIPELINE_DELIVERY_LEASE_SECONDS="15")
    deployment.add_sites(sizes.TENANTS, receiver.url)
    fleet.start(serves=sizes.SERVE_PROCESSES, workers=sizes.WORKER_PROCESSES)
    terminations = Terminations(pg_database.name, rounds=sizes.TERMINATIONS)

    run = run_load(deployment, fleet, receiver, events=sizes.FAULT_EVENTS, run_id="dbf", chaos=terminations)

    assert terminations.log.rounds == sizes.TERMINATIONS
    assert terminations.log.backends_terminated >= sizes.TERMINATIONS, "there were connections to cut"
    # No crash loop: every process rode out the cuts in place (never exited, never restarted).
    assert all(p.alive() and p.incarnations == 1 for p in fleet.processes)
    for url in fleet.urls:
        assert httpx.get(f"{url}/healthz", timeout=10).json()["database"] == "ok"
    checks.assert_nothing_lost(run, deployment.subscription_secrets())
    figures.record("database_faults", {
        "events": sizes.FAULT_EVENTS, "requests": run.load.requests, "answers": dict(run.load.answers),
        "termination_rounds": terminations.log.rounds, "backends_terminated": terminations.log.backends_terminated,
        "deliveries": run.ledger.deliveries, "repeats_at_receiver": checks.repeats_at_receiver(run),
        "process_restarts": sum(p.incarnations - 1 for p in fleet.processes),
    })


@pytest.fixture
def private_cluster() -> postgres.PrivateCluster:
    why_not = postgres.can_run_private_cluster()
    if why_not:
        skip_or_fail(f"cannot run a private PostgreSQL cluster to stop: {why_not}")
    cluster = postgres.PrivateCluster().start()
    yield cluster
    cluster.remove()


def test_intake_answers_503_while_the_database_is_down_and_never_2xx_for_an_unstored_event(
        private_cluster: postgres.PrivateCluster, tmp_path: Path) -> None:
    url = postgres.psycopg_url(private_cluster.create_database(f"outage_{uuid.uuid4().hex[:8]}"))
    deployment = Deployment(database_url=url, workdir=tmp_path / "deployment")
    fleet = Fleet(deployment.env, deployment.workdir)
    try:
        fleet.cli("db", "upgrade")
        deployment.add_sites(1, "http://127.0.0.1:9")
        serve = fleet.add_serve()
        serve.wait_ready()
        events = make_events(30, [deployment.sites[0].account], run="out")
        before, during, after = events[:10], events[10:20], events[20:]
        deployment.close()  # the test's own connections must not keep anything open

        answers: dict[str, int] = {}
        with httpx.Client(base_url=serve.url, timeout=30) as client:
            for event in before:
                answers[event.event_id] = client.post("/webhooks/stripe_connect", content=event.body,
                                                      headers=event.headers(WEBHOOK_SECRET)).status_code
            private_cluster.stop()
            down = [client.post("/webhooks/stripe_connect", content=event.body,
                                headers=event.headers(WEBHOOK_SECRET)) for event in during]
            health_down = client.get("/healthz")
            private_cluster.start()
            time.sleep(0.5)
            for event in [*during, *after]:
                answers[event.event_id] = client.post("/webhooks/stripe_connect", content=event.body,
                                                      headers=event.headers(WEBHOOK_SECRET)).status_code
        assert serve.alive(), "the serve process survived the outage"
    finally:
        fleet.stop()

    assert [a.status_code for a in down] == [503] * len(during)
    assert all(a.json()["error"]["code"] == "store_unavailable" and a.headers.get("retry-after") for a in down)
    assert health_down.status_code == 503
    # After the outage Stripe's retries are accepted; every 2xx ever given is an event in the store.
    assert set(answers.values()) == {200}
    engine = engine_for(url)
    try:
        with engine.connect() as c:
            stored = set(c.execute(select(inbound_events.c.external_id)).scalars())
    finally:
        engine.dispose()
    assert stored == {event_id for event_id, status in answers.items() if status == 200}
    figures.record("database_outage", {"answered_503_while_down": len(down), "stored_after_recovery": len(stored)})
