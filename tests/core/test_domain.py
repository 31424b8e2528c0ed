"""Domain events: validated against versioned schemas, written with one outbox row per matching subscription."""

from __future__ import annotations

import json

import pytest

from core import Capability, IntegrationInfo, hookimpl
from core.errors import ValidationFailed

PURCHASE = {"offer_id": "off_1", "offer_title": "Watercolour basics", "buyer_email": "b@example.com",
            "amount": 4900, "currency": "usd", "provider": "stripe"}


def test_host_emit_writes_a_domain_event_in_its_schema(host, tenant, recorder):
    event = host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"})
    assert event.version == 1
    assert recorder.domain_events("member.created")[0].data == {"member_id": "m1", "email": "m@example.com",
                                                                 "name": None}


def test_an_invalid_payload_is_refused_naming_the_field_and_nothing_is_written(host, tenant, recorder):
    with pytest.raises(ValidationFailed, match="Invalid purchase.completed payload: data"):
        host.emit(tenant.id, "purchase.completed", {**PURCHASE, "amount": "lots"})
    with pytest.raises(ValidationFailed, match="Unknown domain event type 'purchase.done'"):
        host.emit(tenant.id, "purchase.done", PURCHASE)
    assert recorder.domain_events() == []


def test_emit_joins_the_host_apps_transaction(host, tenant, recorder):
    with pytest.raises(RuntimeError), host.store.engine.begin() as conn:
        host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"}, conn=conn)
        raise RuntimeError("the host app's own work failed")
    assert recorder.domain_events() == []


def test_one_delivery_per_matching_subscription(host, tenant, recorder):
    other, _ = host.tenants.create("Other site")
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="purchase.completed",
                                 target_url="http://127.0.0.1:9/a")
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="purchase.completed",
                                 target_url="http://127.0.0.1:9/b", filters={"offer_id": "off_1"})
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="purchase.completed",
                                 target_url="http://127.0.0.1:9/c", filters={"offer_id": "off_2"})
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="purchase.refunded",
                                 target_url="http://127.0.0.1:9/d")
    host.subscriptions.subscribe(other.id, "zapier", event_type="purchase.completed",
                                 target_url="http://127.0.0.1:9/e")
    event = host.emit(tenant.id, "purchase.completed", PURCHASE)
    rows = recorder.deliveries()
    assert sorted(r.target_url for r in rows) == ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]
    body = json.loads(rows[0].payload)
    assert body["id"] == event.id and body["type"] == "purchase.completed" and body["version"] == 2
    assert body["data"]["offer_title"] == "Watercolour basics"
    assert all(r.status == "pending" and r.secret for r in rows)


def test_a_filter_on_an_unknown_field_is_refused_at_subscribe_time(host, tenant):
    with pytest.raises(ValidationFailed, match="Unknown filter 'course' for purchase.completed"):
        host.subscriptions.subscribe(tenant.id, "zapier", event_type="purchase.completed",
                                     target_url="http://127.0.0.1:9/a", filters={"course": "c1"})


def test_an_observing_plugin_delivers_through_the_outbox_for_connected_tenants_only(make_host, recorder):
    class Observer:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="observer", title="Observer", description="Posts sales somewhere.",
                                   capabilities={Capability.CONNECT}, observes={"purchase.completed"})

        @hookimpl
        def connect(self, ctx, tenant, form, state):
            from core import Connected

            return Connected(secrets={"url": "http://127.0.0.1:9/slack"})

        @hookimpl
        def on_domain_event(self, ctx, event):
            ctx.deliver(to=ctx.secret("url"), json={"text": f"New sale: {event.data['offer_title']}"})

    host = make_host(plugins={"observer": Observer()})
    connected, _ = host.tenants.create("Connected")
    bystander, _ = host.tenants.create("Bystander")
    host.connect(connected, "observer", {})
    host.emit(connected.id, "purchase.completed", PURCHASE)
    host.emit(bystander.id, "purchase.completed", PURCHASE)
    assert recorder.deliveries(integration="observer") == [], "observers run in workers, after the commit"
    assert host.pipeline.observer.drain().observed == 1
    rows = [r for r in recorder.deliveries() if r.integration == "observer"]
    assert len(rows) == 1
    assert rows[0].tenant_id == connected.id
    assert json.loads(rows[0].payload) == {"text": "New sale: Watercolour basics"}
    assert rows[0].secret is None
