"""Processing: routed to the right tenant, applied once, retried with backoff, failed, replayable."""

from __future__ import annotations

import threading

import pytest
from fakepay import thing_paid

from core import Connected
from core.models import ConnectionState, InboundStatus


def process(fake):
    return fake.host.pipeline.processor.drain()


def test_an_event_is_routed_to_the_tenant_that_owns_its_account(fake, recorder):
    other, _ = fake.host.tenants.create("Someone else")
    fake.host.connections.save_connected(other, "fake", Connected(external_id="acct_other"), actor="test")
    fake.receive(thing_paid("evt_1"))
    fake.receive(thing_paid("evt_2", account="acct_other", amount=100))
    process(fake)
    mine = recorder.domain_events("purchase.completed", tenant_id=fake.tenant.id)
    theirs = recorder.domain_events("purchase.completed", tenant_id=other.id)
    assert [e.data["amount"] for e in mine] == [4900]
    assert [e.data["amount"] for e in theirs] == [100]


def test_a_processed_event_emits_its_domain_event_once_and_records_its_tenant(fake, recorder):
    fake.receive(thing_paid("evt_1"))
    report = process(fake)
    assert report.processed == 1
    (event,) = fake.host.pipeline.list_events()
    assert event.status is InboundStatus.PROCESSED
    assert event.tenant_id == fake.tenant.id
    assert event.processed_at is not None
    assert process(fake).claimed == 0
    (domain,) = recorder.domain_events("purchase.completed")
    assert domain.source == "fake"


def test_each_matching_subscription_gets_one_outbox_row(fake, recorder):
    host, tenant = fake.host, fake.tenant
    for _ in range(2):
        host.subscriptions.subscribe(tenant.id, "fake", event_type="purchase.completed",
                                     target_url="http://127.0.0.1:9/hook")
    host.subscriptions.subscribe(tenant.id, "fake", event_type="purchase.refunded", target_url="http://127.0.0.1:9/x")
    host.subscriptions.subscribe(tenant.id, "fake", event_type="purchase.completed",
                                 target_url="http://127.0.0.1:9/big", filters={"amount": 99999})
    fake.receive(thing_paid("evt_1"))
    process(fake)
    rows = recorder.deliveries(event_type="purchase.completed")
    assert len(rows) == 2
    assert {r.target_url for r in rows} == {"http://127.0.0.1:9/hook"}
    assert all(r.status == "pending" for r in rows)


def test_a_failing_handler_is_retried_with_growing_backoff(fake, clock):
    fake.host.pipeline.configure(retry_base_seconds=10, max_attempts=5)
    fake.plugin.fail_times = 2
    fake.receive(thing_paid("evt_1"))
    assert process(fake).retried == 1
    (event,) = fake.host.pipeline.list_events()
    assert (event.status, event.attempts) == (InboundStatus.PENDING, 1)
    assert "the fake provider is down" in event.last_error
    clock.advance(9)
    assert process(fake).claimed == 0, "not due before the first backoff (10 s) has passed"
    clock.advance(1)
    assert process(fake).retried == 1
    clock.advance(19)
    assert process(fake).claimed == 0, "the second backoff is twice as long"
    clock.advance(1)
    assert process(fake).processed == 1


def test_after_the_last_attempt_the_event_is_failed_and_replay_processes_it(fake, clock, recorder):
    fake.host.pipeline.configure(retry_base_seconds=1, max_attempts=3)
    fake.plugin.fail_times = 3
    fake.receive(thing_paid("evt_1"))
    for _ in range(3):
        process(fake)
        clock.advance(3600)
    (event,) = fake.host.pipeline.list_events(status="failed")
    assert event.attempts == 3
    assert "RuntimeError: the fake provider is down" in event.last_error
    assert recorder.domain_events("purchase.completed") == []

    replayed = fake.host.pipeline.replay_event(event.id)
    assert (replayed.status, replayed.attempts) == (InboundStatus.PENDING, 0)
    assert process(fake).processed == 1
    assert len(recorder.domain_events("purchase.completed")) == 1


def test_replaying_a_processed_event_is_refused_unless_forced(fake, recorder):
    from core.pipeline import AlreadyDone

    fake.receive(thing_paid("evt_1"))
    process(fake)
    (event,) = fake.host.pipeline.list_events()
    with pytest.raises(AlreadyDone, match=r"emit its domain events .* again"):
        fake.host.pipeline.replay_event(event.id)
    fake.host.pipeline.replay_event(event.id, force=True)
    process(fake)
    assert len(recorder.domain_events("purchase.completed")) == 2


def test_an_ignored_event_keeps_its_reason(fake):
    fake.receive({"id": "evt_i", "type": "thing.ignored", "account": "acct_fake_1"})
    assert process(fake).ignored == 1
    (event,) = fake.host.pipeline.list_events(status="ignored")
    assert event.last_error == "test-mode event on a live connection"


def test_an_event_for_an_account_nobody_connected_is_ignored_not_applied(fake, recorder):
    fake.receive(thing_paid("evt_1", account="acct_unknown"))
    assert process(fake).ignored == 1
    (event,) = fake.host.pipeline.list_events()
    assert "acct_unknown" in event.last_error
    assert recorder.domain_events("purchase.completed") == []


def test_a_disconnect_effect_is_applied_with_the_event(fake, recorder):
    fake.receive({"id": "evt_c", "type": "account.closed", "account": "acct_fake_1"})
    process(fake)
    connection = fake.host.connections.find(fake.tenant.id, "fake")
    assert connection.state is ConnectionState.DISCONNECTED
    assert connection.reason == "The account was closed at Fake Pay."
    assert len(recorder.domain_events("integration.disconnected")) == 1


def test_two_disconnects_of_one_account_in_one_batch_disconnect_it_once(fake, recorder):
    fake.receive({"id": "evt_c1", "type": "account.closed", "account": "acct_fake_1"})
    fake.receive({"id": "evt_c2", "type": "account.closed", "account": "acct_fake_1"})
    assert process(fake).processed == 2
    assert len(recorder.domain_events("integration.disconnected")) == 1


def test_an_invalid_domain_event_fails_that_event_only(fake, recorder):
    fake.plugin.invalid_for = {"evt_bad"}
    fake.receive(thing_paid("evt_bad"))
    fake.receive(thing_paid("evt_good"))
    report = process(fake)
    assert (report.processed, report.retried) == (1, 1)
    bad = next(e for e in fake.host.pipeline.list_events() if e.external_id == "evt_bad")
    assert "could not be written" in bad.last_error and "purchase.completed" in bad.last_error
    assert len(recorder.domain_events("purchase.completed")) == 1


def test_a_claim_that_ran_out_and_went_to_another_worker_is_not_applied_twice(fake, make_host, clock, recorder):
    from core.pipeline import Pipeline

    fake.receive(thing_paid("evt_1"))
    slow = fake.host.pipeline.processor
    other = Pipeline(fake.host).processor
    claimed = slow.claim()
    handled = slow.handle(claimed)
    clock.advance(fake.host.pipeline.config.lease_seconds + 1)
    assert other.run_batch().processed == 1
    report = slow.apply(handled)
    assert (report.processed, report.lost) == (0, 1)
    assert len(recorder.domain_events("purchase.completed")) == 1


def test_two_processors_racing_over_one_backlog_apply_each_event_once(make_fake, make_host, recorder):
    fake = make_fake()
    for i in range(60):
        fake.receive(thing_paid(f"evt_{i}"))
    rival = make_host(plugins={"fake": type(fake.plugin)()})
    workers = [fake.host.pipeline.processor, rival.pipeline.processor]
    for w in workers:
        w.pipeline.configure(batch_size=7)
    start = threading.Barrier(2)

    def run(processor):
        start.wait()
        processor.drain()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = recorder.domain_events("purchase.completed")
    assert len(events) == 60
    assert all(e.status is InboundStatus.PROCESSED for e in fake.host.pipeline.list_events(limit=100))


def test_a_backlog_is_claimed_in_batches_not_all_at_once(fake):
    fake.host.pipeline.configure(batch_size=5)
    for i in range(12):
        fake.receive(thing_paid(f"evt_{i}"))
    assert [fake.host.pipeline.processor.run_batch().claimed for _ in range(4)] == [5, 5, 2, 0]


def test_the_handlers_of_a_batch_run_side_by_side(fake, recorder):
    """A handler waiting on its provider must not hold up the rest of the batch: four handlers that can
    only finish together (a barrier) all finish, in one batch, each applied once."""
    fake.plugin.barrier = threading.Barrier(4)
    for n in range(4):
        fake.receive(thing_paid(f"evt_{n}"))
    report = process(fake)
    assert report.processed == 4
    assert len(recorder.domain_events("purchase.completed")) == 4
