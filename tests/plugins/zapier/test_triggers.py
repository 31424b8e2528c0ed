"""Trigger samples are recent real payloads in exactly the delivered shape, or a stable example."""

from __future__ import annotations

import json

import attrs
import httpx
import pytest
from zapier_kit import Receiver

from core import Capability, EventType, IntegrationInfo, hookimpl
from core.events import CORE_EVENT_TYPES
from plugins.zapier import catalog

TARGET = "http://127.0.0.1:9/hooks/sample"
CORE_TYPES = sorted(CORE_EVENT_TYPES)


@pytest.mark.parametrize("event_type", CORE_TYPES)
def test_the_sample_equals_what_a_subscriber_is_delivered(event_type, site, zapier, zapier_host, recorder, clock):
    zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": event_type})
    clock.advance(1)
    event = zapier_host.emit(site.tenant.id, event_type, zapier_host.event_types[event_type].example)
    (delivery,) = recorder.deliveries(domain_event_id=event.id)
    sample = zapier.get(f"/api/zapier/triggers/{event_type}/sample").json()[0]
    assert sample == json.loads(delivery.payload)
    assert sample["id"] == event.id


@pytest.mark.parametrize("event_type", CORE_TYPES)
def test_without_events_the_sample_is_the_stable_example_in_the_same_shape(event_type, zapier_host, base_url):
    tenant, _ = zapier_host.tenants.create("Quiet Studio")
    _, api_key = zapier_host.api_keys.create(tenant.id, "zapier")  # not connected: no integration.* events
    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}) as zapier:
        (sample,) = zapier.get(f"/api/zapier/triggers/{event_type}/sample").json()
        assert zapier.get(f"/api/zapier/triggers/{event_type}/sample").json() == [sample]
    assert set(sample) == {"id", "type", "version", "occurred_at", "tenant_id", "data"}
    assert sample["type"] == event_type and sample["tenant_id"] == tenant.id
    assert set(zapier_host.event_types[event_type].example) <= set(sample["data"])


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


def test_the_trigger_list_is_the_deployments_catalogue_as_the_app_defines_it(zapier, zapier_host):
    response = zapier.get("/api/zapier/triggers")
    assert response.status_code == 200
    assert response.json() == {"triggers": catalog.build(zapier_host.event_types)["triggers"]}
    assert [t["event"] for t in response.json()["triggers"]] == list(zapier_host.event_types)


# -- a type a plugin declares ----------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class ReviewStarted:
    sale_reference: str
    amount: int
    currency: str


REVIEW_STARTED = EventType(name="acme.review_started", title="Sale review started", version=1, schema=ReviewStarted,
                           description="Acme holds a sale while it reviews it.",
                           example={"sale_reference": "sale_example", "amount": 4900, "currency": "usd"})


class AcmePay:
    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="acme", title="Acme Pay", description="Takes payments.",
                               capabilities={Capability.WEBHOOKS})

    @hookimpl
    def event_types(self):
        return [REVIEW_STARTED]


class TestAPluginsOwnType:
    @pytest.fixture
    def other_plugins(self):
        return {"acme": AcmePay()}

    def test_it_is_listed_as_a_trigger_with_its_fields(self, zapier):
        triggers = {t["event"]: t for t in zapier.get("/api/zapier/triggers").json()["triggers"]}
        trigger = triggers["acme.review_started"]
        assert (trigger["key"], trigger["label"], trigger["version"]) == (
            "acme_review_started", "New Sale review started", 1)
        assert {f["key"] for f in trigger["output_fields"]} >= {"data__sale_reference", "data__amount"}
        assert "purchase.completed" in triggers

    async def test_a_zap_subscribes_to_it_and_receives_it_signed_through_the_outbox(
            self, site, zapier, zapier_host, live_server, recorder):
        receiver = Receiver()
        target = live_server(receiver.app())
        hook = zapier.post("/api/zapier/hooks", json={"target_url": f"{target}/hooks/review",
                                                      "event": "acme.review_started"})
        assert hook.status_code == 201, hook.text

        event = zapier_host.emit(site.tenant.id, "acme.review_started",
                                 {"sale_reference": "sale_7", "amount": 100, "currency": "eur"})
        await zapier_host.pipeline.run_once()

        [(headers, body)] = receiver.received
        assert body == {"id": event.id, "type": "acme.review_started", "version": 1, "tenant_id": site.tenant.id,
                        "occurred_at": body["occurred_at"],
                        "data": {"sale_reference": "sale_7", "amount": 100, "currency": "eur"}}
        assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
        assert [d.status for d in recorder.deliveries(event_type="acme.review_started")] == ["delivered"]

    def test_its_sample_is_its_example_then_its_latest_events(self, site, zapier, zapier_host):
        (example,) = zapier.get("/api/zapier/triggers/acme.review_started/sample").json()
        assert example["data"] == REVIEW_STARTED.example and example["version"] == 1

        event = zapier_host.emit(site.tenant.id, "acme.review_started",
                                 {"sale_reference": "sale_8", "amount": 5, "currency": "usd"})
        (latest,) = zapier.get("/api/zapier/triggers/acme.review_started/sample").json()
        assert (latest["id"], latest["data"]["sale_reference"]) == (event.id, "sale_8")

    def test_a_filter_on_its_fields_is_accepted(self, zapier):
        hook = zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "acme.review_started",
                                                      "filters": {"currency": "usd"}})
        assert hook.status_code == 201 and hook.json()["filters"] == {"currency": "usd"}


def test_without_the_plugin_its_type_is_no_trigger(zapier):
    response = zapier.get("/api/zapier/triggers/acme.review_started/sample")
    assert response.status_code == 404
    assert "acme.review_started" not in [t["event"] for t in zapier.get("/api/zapier/triggers").json()["triggers"]]
