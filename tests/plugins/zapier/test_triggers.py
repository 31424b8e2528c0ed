"""Trigger samples are recent real payloads in exactly the delivered shape, or a stable example."""

from __future__ import annotations

import json

import httpx
import pytest

from core import EVENT_TYPES

TARGET = "http://127.0.0.1:9/hooks/sample"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_the_sample_equals_what_a_subscriber_is_delivered(event_type, site, zapier, zapier_host, recorder, clock):
    zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": event_type})
    clock.advance(1)
    event = zapier_host.emit(site.tenant.id, event_type, EVENT_TYPES[event_type].example)
    (delivery,) = recorder.deliveries(domain_event_id=event.id)
    sample = zapier.get(f"/api/zapier/triggers/{event_type}/sample").json()[0]
    assert sample == json.loads(delivery.payload)
    assert sample["id"] == event.id


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_without_events_the_sample_is_the_stable_example_in_the_same_shape(event_type, zapier_host, base_url):
    tenant, _ = zapier_host.tenants.create("Quiet Studio")
    _, api_key = zapier_host.api_keys.create(tenant.id, "zapier")  # not connected: no integration.* events
    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}) as zapier:
        (sample,) = zapier.get(f"/api/zapier/triggers/{event_type}/sample").json()
        assert zapier.get(f"/api/zapier/triggers/{event_type}/sample").json() == [sample]
    assert set(sample) == {"id", "type", "version", "occurred_at", "tenant_id", "data"}
    assert sample["type"] == event_type and sample["tenant_id"] == tenant.id
    assert set(EVENT_TYPES[event_type].example) <= set(sample["data"])


def test_the_sample_is_the_three_newest_events_newest_first(site, zapier, zapier_host, clock):
    emitted = []
    for n in range(4):
        clock.advance(1)
        emitted.append(zapier_host.emit(site.tenant.id, "member.created",
                                        {"member_id": f"mem_{n}", "email": f"m{n}@example.com"}).id)
    sample = zapier.get("/api/zapier/triggers/member.created/sample").json()
    assert [item["id"] for item in sample] == emitted[:0:-1]


def test_an_unknown_trigger_is_a_404_listing_the_triggers(zapier):
    response = zapier.get("/api/zapier/triggers/purchase.done/sample")
    assert response.status_code == 404
    assert "purchase.completed" in response.json()["error"]["message"]
