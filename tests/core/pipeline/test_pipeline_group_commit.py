"""Group commit: requests that arrive together share one commit, yet each gets its own outcome."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from core.ids import new_id
from core.pipeline.group_commit import GroupCommitWriter


def row(clock, external_id, **overrides):
    now = clock.now()
    return {"id": new_id("inb"), "integration": "fake", "external_id": external_id, "type": "thing.paid",
            "account": None, "livemode": None, "tenant_id": None, "payload": "{}", "status": "pending",
            "attempts": 0, "next_attempt_at": now, "received_at": now, **overrides}


@pytest.fixture
def held_writer(host, clock):
    """A writer held inside its first commit until ``release``, so later requests pile up behind it."""
    engine = host.store.engine
    release, busy = threading.Event(), threading.Event()
    commits = []

    def count(conn):
        commits.append(1)

    event.listen(engine, "commit", count)
    first = [True]

    def get_engine():
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
    event.remove(engine, "commit", count)


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
