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


def test_with_the_zaps_filters_the_sample_shows_only_what_that_zap_would_receive(site, zapier, zapier_host, clock):
    def enrol(n: int, course: str) -> str:
        clock.advance(1)
        return zapier_host.emit(site.tenant.id, "enrollment.created", {
            "enrollment_id": f"enr_{n}", "member_id": f"mem_{n}", "email": f"m{n}@example.com",
            "course_id": course}).id

    watercolour = [enrol(0, "crs_watercolour"), enrol(1, "crs_watercolour")]
    enrol(2, "crs_ink")
    sample = zapier.get("/api/zapier/triggers/enrollment.created/sample", params={"course_id": "crs_watercolour"})
    assert [item["id"] for item in sample.json()] == watercolour[::-1]


def test_a_filter_nothing_matches_yet_gives_the_example_carrying_the_filter_value(site, zapier, zapier_host):
    zapier_host.emit(site.tenant.id, "enrollment.created", {"enrollment_id": "enr_1", "member_id": "mem_1",
                                                            "email": "m@example.com", "course_id": "crs_ink"})
    (sample,) = zapier.get("/api/zapier/triggers/enrollment.created/sample",
                           params={"course_id": "crs_new", "offer_id": ""}).json()
    assert sample["id"].startswith("ev_example_") and sample["data"]["course_id"] == "crs_new"


def test_an_unknown_filter_is_a_400_naming_the_fields_to_filter_on(zapier):
    response = zapier.get("/api/zapier/triggers/enrollment.created/sample", params={"colour": "blue"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "filter_unknown" and "course_id" in error["message"]


def test_a_filter_on_a_number_leaves_the_examples_number_alone(zapier):
    (sample,) = zapier.get("/api/zapier/triggers/purchase.completed/sample", params={"amount": "12"}).json()
    assert isinstance(sample["data"]["amount"], int)
