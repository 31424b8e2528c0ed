"""``events`` and ``deliveries`` commands, run through click against the test's database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fakepay import thing_paid


@pytest.fixture
def failed_event(fake, clock):
    fake.host.pipeline.configure(max_attempts=1)
    fake.plugin.fail_times = 1
    fake.receive(thing_paid("evt_failed"))
    fake.host.pipeline.processor.drain()
    (event,) = fake.host.pipeline.list_events(status="failed")
    return event


def test_events_list_json_filters_by_status_and_hides_payloads(fake, failed_event, run):
    fake.receive(thing_paid("evt_pending"))
    listed = json.loads(run("events", "list", "--status", "failed", "--json").output)["events"]
    assert [e["external_id"] for e in listed] == ["evt_failed"]
    assert listed[0]["status"] == "failed" and "the fake provider is down" in listed[0]["last_error"]
    assert "payload" not in listed[0]


def test_events_list_filters_by_tenant_and_integration(fake, run):
    fake.receive(thing_paid("evt_1"))
    fake.host.pipeline.processor.drain()
    by_tenant = json.loads(run("events", "list", "--tenant", fake.tenant.id, "--json").output)["events"]
    assert [e["external_id"] for e in by_tenant] == ["evt_1"]
    assert json.loads(run("events", "list", "--integration", "other", "--json").output)["events"] == []


def test_events_show_prints_the_payload(fake, run):
    fake.receive(thing_paid("evt_1"))
    (event,) = fake.host.pipeline.list_events()
    shown = json.loads(run("events", "show", event.id, "--json").output)
    assert shown["payload"]["data"]["amount"] == 4900


def test_events_replay_id_queues_a_failed_event(run, failed_event, fake, clock):
    out = json.loads(run("events", "replay", failed_event.id, "--json").output)
    assert (out["status"], out["attempts"]) == ("pending", 0)
    clock.set(datetime.now(UTC))
    assert fake.host.pipeline.processor.drain().processed == 1


def test_events_replay_of_a_processed_event_explains_why_it_is_refused(fake, run):
    fake.receive(thing_paid("evt_1"))
    fake.host.pipeline.processor.drain()
    (event,) = fake.host.pipeline.list_events()
    result = run("events", "replay", event.id, ok=False)
    assert result.exit_code == 1
    assert "would emit its domain events" in result.output and "--force" in result.output


def test_events_replay_status_failed_queues_every_failed_event(fake, clock, run):
    fake.host.pipeline.configure(max_attempts=1)
    fake.plugin.fail_times = 3
    for i in range(3):
        fake.receive(thing_paid(f"evt_{i}"))
    fake.host.pipeline.processor.drain()
    out = json.loads(run("events", "replay", "--status", "failed", "--json").output)
    assert out == {"replayed": 3}
    assert fake.host.pipeline.list_events(status="failed") == []
    assert run("events", "replay", "--status", "failed").output.strip() == "Queued 0 failed event(s) for processing."


def test_events_replay_needs_an_id_or_a_status(run):
    result = run("events", "replay", ok=False)
    assert result.exit_code == 2 and "Give an event ID or --status failed" in result.output


async def test_deliveries_list_and_retry(fake, run, clock):
    from core.testing import free_port

    fake.host.pipeline.configure(delivery_schedule=())
    fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                      target_url=f"http://127.0.0.1:{free_port()}/hooks/secret-token")
    fake.receive(thing_paid("evt_1"))
    await fake.host.pipeline.run_once()
    (dead,) = json.loads(run("deliveries", "list", "--status", "dead", "--json").output)["deliveries"]
    assert dead["target"] == f"http://127.0.0.1:{dead['target'].split(':')[2].split('/')[0]}/…"
    assert "secret-token" not in run("deliveries", "list").output
    retried = json.loads(run("deliveries", "retry", dead["id"], "--json").output)
    assert (retried["status"], retried["attempts"]) == ("pending", 0)


def test_deliveries_retry_of_an_unknown_id_says_how_to_find_one(run):
    result = run("deliveries", "retry", "msg_nope", ok=False)
    assert result.exit_code == 1 and "deliveries list" in result.output
