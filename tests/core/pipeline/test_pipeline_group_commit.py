"""Group commit: requests that arrive together share one commit, yet each gets its own outcome."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError

from core.ids import new_id
from core.pipeline.group_commit import GroupCommitWriter, insert_events
from core.store.tables import inbound_events


def row(clock, external_id, **overrides):
    now = clock.now()
    return {"id": new_id("inb"), "integration": "fake", "external_id": external_id, "type": "thing.paid",
            "account": None, "livemode": None, "tenant_id": None, "payload": "{}", "status": "pending",
            "attempts": 0, "next_attempt_at": now, "received_at": now, **overrides}


@pytest.fixture
def held_writer(host, clock):
    """A writer held inside its first commit until ``release``, so later requests pile up behind it.

    ``commits`` counts the writer's transactions: it asks for the engine once for each."""
    engine = host.store.engine
    release, busy = threading.Event(), threading.Event()
    commits = []
    first = [True]

    def get_engine():
        commits.append(1)
        if first[0]:
            first[0] = False
            busy.set()
            release.wait(10)
        return engine

    writer = GroupCommitWriter(get_engine)
    writer.submit([row(clock, "evt_first")])
    busy.wait(10)  # the writer is inside its first commit; what is submitted now waits for the next
    yield writer, release, commits
    release.set()
    writer.close()


def test_requests_that_arrive_during_a_commit_share_the_next_one(held_writer, clock):
    writer, release, commits = held_writer
    waiting = [writer.submit([row(clock, f"evt_{i}")]) for i in range(5)]
    release.set()
    assert all(len(f.result(10)) == 1 for f in waiting)
    assert len(commits) == 2


def test_a_bad_row_in_a_shared_commit_fails_only_its_own_request(held_writer, clock):
    writer, release, _ = held_writer
    good = writer.submit([row(clock, "evt_good")])
    bad = writer.submit([row(clock, "evt_bad", type=None)])
    release.set()
    assert len(good.result(10)) == 1
    with pytest.raises(IntegrityError):
        bad.result(10)


def test_the_same_event_twice_in_one_commit_is_stored_once(held_writer, clock, recorder):
    writer, release, _ = held_writer
    copies = [writer.submit([row(clock, "evt_same")]) for _ in range(3)]
    release.set()
    assert sorted(len(f.result(10)) for f in copies) == [0, 0, 1]
    assert len(recorder.inbound_events(external_id="evt_same")) == 1


def test_requests_queued_when_the_writer_closes_are_still_written(host, clock, recorder):
    writer = GroupCommitWriter(lambda: host.store.engine)
    futures = [writer.submit([row(clock, f"evt_{i}")]) for i in range(5)]
    writer.close()
    assert all(len(f.result(10)) == 1 for f in futures)
    refused = writer.submit([row(clock, "evt_late")])
    with pytest.raises(RuntimeError, match="shut down"):
        refused.result(10)


def test_a_failed_insert_says_what_failed_without_listing_the_values_sent(host, clock):
    writer = GroupCommitWriter(lambda: host.store.engine)
    try:
        bad = writer.submit([row(clock, "evt_bad", type=None, payload='{"card_holder": "Ada Lovelace"}')])
        with pytest.raises(IntegrityError) as raised:
            bad.result(10)
    finally:
        writer.close()
    assert "inbound_events" in str(raised.value)
    assert "[parameters:" not in str(raised.value)


def test_the_writer_recovers_when_its_connection_went_away_between_commits(host, clock, recorder):
    writer = GroupCommitWriter(lambda: host.store.engine)
    try:
        assert len(writer.submit([row(clock, "evt_before")]).result(10)) == 1
        held = writer._connection._raw
        assert held is not None, "the writer keeps its connection between commits"
        held.driver_connection.close()  # as a database restart or an idle timeout would
        assert len(writer.submit([row(clock, "evt_after")]).result(10)) == 1
    finally:
        writer.close()
    assert {e.external_id for e in recorder.inbound_events()} == {"evt_before", "evt_after"}


def test_stored_rows_read_back_as_sqlalchemy_wrote_them(host, clock, recorder):
    writer = GroupCommitWriter(lambda: host.store.engine)
    try:
        writer.submit([row(clock, "evt_one", livemode=True, account="acct_1")]).result(10)
        writer.submit([row(clock, "evt_two", livemode=False), row(clock, "evt_three")]).result(10)
    finally:
        writer.close()
    stored = {e.external_id: e for e in recorder.inbound_events()}
    assert stored["evt_one"].livemode is True and stored["evt_one"].account == "acct_1"
    assert stored["evt_two"].livemode is False and stored["evt_three"].livemode is None
    assert stored["evt_one"].received_at == clock.now() and stored["evt_one"].next_attempt_at.tzinfo is not None
    assert stored["evt_one"].attempts == 0 and stored["evt_one"].status == "pending"


def test_a_connection_the_intake_used_goes_back_to_the_pool_as_it_came(host, clock, recorder):
    insert_events(host.store.engine, [row(clock, "evt_stored")])
    engine = host.store.engine
    with engine.connect() as c:  # a transaction on a pooled connection still rolls back
        c.execute(inbound_events.delete())
        c.rollback()
    assert [e.external_id for e in recorder.inbound_events()] == ["evt_stored"]
