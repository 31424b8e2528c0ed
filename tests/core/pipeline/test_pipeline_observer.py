"""Observers run after the commit, in workers: emitting a domain event only queues one observation per
observing plugin; a worker calls ``on_domain_event`` with no transaction open, writes what it asked for
through the outbox, retries a failing observer with backoff, fails it after the last attempt (recorded
against the plugin whatever it raised), and lets an operator replay it.
"""

from __future__ import annotations

import json
import threading

import pytest
from notifier import MEMBER, Notifier

from core import CORE_EVENT_TYPES, NotConnected
from core.models import ObservationStatus
from core.pipeline import AlreadyDone


@pytest.fixture
def notifier():
    return Notifier()


@pytest.fixture
def site(make_host, notifier):
    host = make_host(plugins={"notifier": notifier})
    tenant, _ = host.tenants.create("Connected")
    host.connect(tenant, "notifier", {})
    return host, tenant


def observations(host, **where):
    return host.pipeline.list_observations(limit=1000, **where)


def test_emitting_only_queues_an_observation_for_connected_observers(make_host, notifier, recorder):
    host = make_host(plugins={"notifier": notifier})
    connected, _ = host.tenants.create("Connected")
    bystander, _ = host.tenants.create("Bystander")
    host.connect(connected, "notifier", {})

    event = host.emit(connected.id, "member.created", MEMBER)
    host.emit(bystander.id, "member.created", MEMBER)
    host.emit(connected.id, "course.completed", CORE_EVENT_TYPES["course.completed"].example)  # not observed

    assert notifier.seen == [], "no plugin code runs while an event is written"
    assert len(recorder.observations(integration="notifier")) == 1
    (queued,) = observations(host)
    assert (queued.domain_event_id, queued.tenant_id, queued.integration, queued.event_type) == (
        event.id, connected.id, "notifier", "member.created")
    assert queued.status is ObservationStatus.PENDING


def test_a_worker_observes_after_the_commit_and_delivers_through_the_outbox(site, notifier, recorder):
    host, tenant = site
    event = host.emit(tenant.id, "member.created", MEMBER)

    report = host.pipeline.observer.drain()

    assert (report.claimed, report.observed) == (1, 1)
    assert notifier.seen == [event.id]
    (delivery,) = recorder.deliveries(integration="notifier")
    assert json.loads(delivery.payload) == {"text": "New member: m@example.com"}
    assert delivery.domain_event_id == event.id and delivery.secret is None
    (done,) = observations(host)
    assert (done.status, done.attempts, done.last_error) == (ObservationStatus.OBSERVED, 1, None)
    assert host.pipeline.observer.drain().claimed == 0, "observed once"


def test_run_once_processes_observes_and_delivers(site, notifier):
    import asyncio

    host, tenant = site
    host.emit(tenant.id, "member.created", MEMBER)
    report = asyncio.run(host.pipeline.run_once())
    assert report.observations.observed == 1
    assert report.deliveries.claimed == 1


@pytest.mark.parametrize("raised", [RuntimeError("the CRM is down"),
                                    NotConnected("The CRM token expired; reconnect.", code="crm_token_expired")],
                         ids=["any exception", "an IntellectraError"])
def test_a_failing_observer_is_retried_with_backoff_then_failed_and_recorded_against_its_plugin(
        site, notifier, clock, recorder, raised):
    host, tenant = site
    host.pipeline.configure(max_attempts=3, retry_base_seconds=10)
    notifier.fail_with = raised
    host.emit(tenant.id, "member.created", MEMBER)

    assert host.pipeline.observer.drain().retried == 1
    (waiting,) = observations(host)
    assert (waiting.status, waiting.attempts) == (ObservationStatus.PENDING, 1)
    assert str(raised) in (waiting.last_error or "")
    clock.advance(9)
    assert host.pipeline.observer.drain().claimed == 0, "not before the first backoff (10 s)"
    clock.advance(1)
    assert host.pipeline.observer.drain().retried == 1
    clock.advance(20)
    assert host.pipeline.observer.drain().failed == 1

    (failed,) = observations(host, status="failed")
    assert failed.attempts == 3 and str(raised) in (failed.last_error or "")
    errors = host.plugins.records["notifier"].runtime_errors
    assert len(errors) == 3 and all(e.startswith("on_domain_event: ") and str(raised) in e for e in errors)
    assert host.plugins.records["notifier"].as_json()["recent_errors"] == errors
    assert recorder.deliveries(integration="notifier") == []


def test_a_failed_observation_is_replayed_with_fresh_attempts(site, notifier, clock, recorder):
    host, tenant = site
    host.pipeline.configure(max_attempts=1)
    notifier.fail_with = RuntimeError("the CRM is down")
    host.emit(tenant.id, "member.created", MEMBER)
    assert host.pipeline.observer.drain().failed == 1
    (failed,) = observations(host, status="failed")

    notifier.fail_with = None
    replayed = host.pipeline.replay_observation(failed.id)

    assert (replayed.status, replayed.attempts, replayed.last_error) == (ObservationStatus.PENDING, 0, None)
    assert host.pipeline.observer.drain().observed == 1
    assert len(recorder.deliveries(integration="notifier")) == 1
    with pytest.raises(AlreadyDone, match="replay it with --force"):
        host.pipeline.replay_observation(failed.id)
    assert host.pipeline.replay_observation(failed.id, force=True).status is ObservationStatus.PENDING


def test_bulk_replay_takes_failed_or_skipped_only(site, notifier):
    host, tenant = site
    host.pipeline.configure(max_attempts=1)
    notifier.fail_with = RuntimeError("down")
    for _ in range(3):
        host.emit(tenant.id, "member.created", MEMBER)
    assert host.pipeline.observer.drain().failed == 3
    assert host.pipeline.replay_observations(status="failed") == 3
    assert {o.status for o in observations(host)} == {ObservationStatus.PENDING}
    with pytest.raises(Exception, match="--status failed or --status skipped"):
        host.pipeline.replay_observations(status="observed")


def test_a_connection_gone_before_its_turn_is_skipped_without_calling_the_plugin(site, notifier, recorder):
    host, tenant = site
    host.emit(tenant.id, "member.created", MEMBER)
    host.disconnect(tenant, "notifier")

    assert host.pipeline.observer.drain().skipped == 1

    assert notifier.seen == []
    (skipped,) = observations(host)
    assert skipped.status is ObservationStatus.SKIPPED and "disconnected" in (skipped.last_error or "")
    assert recorder.deliveries(integration="notifier") == []


def test_the_observer_runs_with_no_transaction_open(site, notifier):
    """Proof by the database itself: while the plugin runs, another thread writes at once (on SQLite a
    transaction held around the plugin would hold the only write lock, and that write would wait)."""
    host, tenant = site
    wrote = []

    def write_elsewhere() -> None:
        done = threading.Event()
        threading.Thread(target=lambda: (host.tenants.create("Written while observing"), done.set())).start()
        wrote.append(done.wait(5))

    notifier.during = write_elsewhere
    host.emit(tenant.id, "member.created", MEMBER)
    assert host.pipeline.observer.drain().observed == 1
    assert wrote == [True]


def test_an_event_that_kills_every_observing_worker_fails_saying_so(site, clock):
    host, tenant = site
    host.pipeline.configure(max_attempts=2)
    host.emit(tenant.id, "member.created", MEMBER)
    for _ in range(2):
        assert len(host.pipeline.observer.claim()) == 1  # the worker dies while the plugin observes
        clock.advance(host.pipeline.config.lease_seconds + 1)
    assert host.pipeline.observer.claim() == []
    (failed,) = observations(host)
    assert (failed.status, failed.attempts) == (ObservationStatus.FAILED, 0)
    assert "started 2 times and never finished" in (failed.last_error or "")
