"""The tenant API beyond connect/disconnect/status: events, deliveries, API keys, subscriptions."""

from __future__ import annotations

import pytest
from web_support import Site

from core.store.tables import deliveries


def dead_delivery(site: Site, who: str = "a") -> str:
    tenant = site.tenant(who)
    site.host.subscriptions.subscribe(tenant.id, "hooks", event_type="member.created",
                                      target_url="http://127.0.0.1:9/unreachable")
    site.host.emit(tenant.id, "member.created", {"member_id": "mem_1", "email": "m@example.com"})
    (delivery,) = site.host.pipeline.list_deliveries(tenant_id=tenant.id)
    with site.host.store.begin() as c:
        c.execute(deliveries.update().where(deliveries.c.id == delivery.id).values(
            status="dead", attempts=8, last_error="connection refused"))
    return delivery.id


def test_events_lists_this_sites_domain_events_newest_first(site: Site):
    api = site.api("a")
    for n in range(3):
        site.host.emit(site.tenant("a").id, "member.created", {"member_id": f"mem_{n}", "email": "m@example.com"})
    site.host.emit(site.tenant("a").id, "course.completed",
                   {"member_id": "mem_0", "email": "m@example.com", "course_id": "crs_1"})
    body = api.get("/api/events").json()
    assert [e["type"] for e in body["events"]] == ["course.completed"] + ["member.created"] * 3
    only = api.get("/api/events", params={"type": "member.created", "limit": 2}).json()["events"]
    assert [e["data"]["member_id"] for e in only] == ["mem_2", "mem_1"]
    assert set(only[0]) >= {"id", "type", "tenant_id", "version", "data", "occurred_at", "source"}


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
def test_a_bad_limit_is_a_clear_400(site: Site, limit):
    response = site.api("a").get("/api/events", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "invalid_limit",
                                        "message": f"limit must be a whole number from 1 to 200, not {limit!r}."}


def test_deliveries_filter_by_status_and_failing_means_needs_attention(site: Site):
    delivery_id = dead_delivery(site)
    api = site.api("a")
    assert [d["id"] for d in api.get("/api/deliveries").json()["deliveries"]] == [delivery_id]
    assert [d["id"] for d in api.get("/api/deliveries?status=dead").json()["deliveries"]] == [delivery_id]
    assert [d["id"] for d in api.get("/api/deliveries?status=failing").json()["deliveries"]] == [delivery_id]
    assert api.get("/api/deliveries?status=delivered").json()["deliveries"] == []
    bad = api.get("/api/deliveries?status=lost")
    assert bad.status_code == 400 and "use one of pending, delivered, dead, cancelled, failing" in \
        bad.json()["error"]["message"]


def test_a_dead_delivery_can_be_retried(site: Site):
    delivery_id = dead_delivery(site)
    response = site.api("a").post(f"/api/deliveries/{delivery_id}/retry")
    assert response.status_code == 200
    assert response.json()["delivery"]["status"] == "pending"
    assert response.json()["delivery"]["attempts"] == 0
    missing = site.api("a").post("/api/deliveries/msg_nope/retry")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "delivery_not_found"


def test_an_api_key_is_returned_once_then_listed_without_it_and_revoked(site: Site):
    api = site.api("a")
    created = api.post("/api/api-keys", json={"integration": "hooks", "label": "My Zaps"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    plaintext, key = body["key"], body["api_key"]
    assert plaintext.startswith("ik_") and key["label"] == "My Zaps" and key["prefix"] == plaintext[:10]
    listed = api.get("/api/api-keys", params={"integration": "hooks"})
    assert [k["id"] for k in listed.json()["api_keys"]] == [key["id"]]
    assert plaintext not in listed.text
    revoked = api.delete(f"/api/api-keys/{key['id']}")
    assert revoked.status_code == 200 and revoked.json()["api_key"]["revoked_at"]
    assert api.get("/api/api-keys").json()["api_keys"] == []
    assert api.delete(f"/api/api-keys/{key['id']}").status_code == 200, "revoking is idempotent"
    assert site.host.api_keys.authenticate(plaintext, "hooks") is None


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "integration_missing"),
    ({"integration": "demopay"}, 400, "api_keys_unsupported"),
    ({"integration": "nosuch"}, 404, "integration_not_loaded"),
    ({"integration": "hooks", "label": "x" * 201}, 400, "label_too_long"),
])
def test_creating_a_key_explains_what_is_wrong(site: Site, body, status, code):
    response = site.api("a").post("/api/api-keys", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_subscriptions_are_listed_for_the_site(site: Site):
    sub, _ = site.host.subscriptions.subscribe(site.tenant("a").id, "hooks", event_type="purchase.completed",
                                               target_url="http://127.0.0.1:9/hook")
    listed = site.api("a").get("/api/subscriptions", params={"integration": "hooks"}).json()["subscriptions"]
    assert [(s["id"], s["event_type"]) for s in listed] == [(sub.id, "purchase.completed")]
    assert "secret" not in listed[0]


def test_failing_also_lists_deliveries_still_being_retried_but_not_fresh_ones(site: Site):
    dead_id = dead_delivery(site)
    tenant = site.tenant("a")
    site.host.emit(tenant.id, "member.created", {"member_id": "mem_2", "email": "m@example.com"})
    site.host.emit(tenant.id, "member.created", {"member_id": "mem_3", "email": "m@example.com"})
    retrying, fresh = [d.id for d in site.host.pipeline.list_deliveries(tenant_id=tenant.id, status="pending")]
    with site.host.store.begin() as c:
        c.execute(deliveries.update().where(deliveries.c.id == retrying).values(attempts=2, last_error="HTTP 503"))
    failing = [d["id"] for d in site.api("a").get("/api/deliveries?status=failing").json()["deliveries"]]
    assert set(failing) == {dead_id, retrying} and fresh not in failing
