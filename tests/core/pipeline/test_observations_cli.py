"""``observations list`` and ``observations replay``, run through click against the test's database."""

from __future__ import annotations

import json

import pytest
from notifier import MEMBER, Notifier


@pytest.fixture
def failing(make_host, clock):
    """A site whose observer failed for good on one event and observed another."""
    plugin = Notifier()
    host = make_host(plugins={"notifier": plugin})
    tenant, _ = host.tenants.create("Site")
    host.connect(tenant, "notifier", {})
    host.pipeline.configure(max_attempts=1)
    host.emit(tenant.id, "member.created", MEMBER)
    host.pipeline.observer.drain()
    plugin.fail_with = RuntimeError("the CRM is down")
    host.emit(tenant.id, "member.created", MEMBER)
    host.pipeline.observer.drain()
    return host


def test_observations_list_shows_the_failed_one_with_its_error(failing, run, monkeypatch):
    listed = json.loads(run("observations", "list", "--status", "failed", "--json").output)["observations"]
    assert len(listed) == 1
    assert listed[0]["integration"] == "notifier" and listed[0]["event_type"] == "member.created"
    assert listed[0]["status"] == "failed" and "RuntimeError: the CRM is down" in listed[0]["last_error"]
    everything = json.loads(run("observations", "list", "--integration", "notifier", "--json").output)
    assert sorted(o["status"] for o in everything["observations"]) == ["failed", "observed"]
    monkeypatch.setenv("COLUMNS", "250")  # a wide terminal: the table's columns are not cut short
    table = run("observations", "list").output
    assert "failed" in table and "the CRM is down" in table


def test_observations_replay_queues_one_or_every_failed_one(failing, run, clock):
    (failed,) = failing.pipeline.list_observations(status="failed")
    assert f"Observation {failed.id} is queued" in run("observations", "replay", failed.id).output
    assert failing.pipeline.get_observation(failed.id).status.value == "pending"
    clock.advance(1)  # past the CLI's wall-clock "now"
    assert failing.pipeline.observer.drain().failed == 1  # the plugin is still down
    assert json.loads(run("observations", "replay", "--status", "failed", "--json").output) == {"replayed": 1}


def test_replaying_an_observed_one_explains_why_it_is_refused(failing, run):
    (observed,) = failing.pipeline.list_observations(status="observed")
    refused = run("observations", "replay", observed.id, ok=False)
    assert refused.exit_code == 1
    assert "already observed" in refused.output and "--force" in refused.output


def test_observations_replay_needs_an_id_or_a_status(run):
    result = run("observations", "replay", ok=False)
    assert result.exit_code == 2 and "Give an observation ID or --status failed" in result.output
