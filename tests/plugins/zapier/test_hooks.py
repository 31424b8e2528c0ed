"""REST hooks: Zapier subscribes a target URL per Zap, lists them and unsubscribes (idempotently)."""

from __future__ import annotations

import pytest

from core.events import CORE_EVENT_TYPES

TARGET = "http://127.0.0.1:9/hooks/standard/123"


def test_subscribing_answers_201_with_the_hook_and_its_signing_secret_once(zapier):
    response = zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "purchase.completed"})
    assert response.status_code == 201
    hook = response.json()
    assert set(hook) == {"id", "event", "target_url", "filters", "created_at", "secret"}
    assert hook["event"] == "purchase.completed" and hook["target_url"] == TARGET and hook["filters"] == {}
    assert hook["id"].startswith("sub_")
    assert hook["secret"].startswith("whsec_")
    assert "secret" not in zapier.get("/api/zapier/hooks").json()["hooks"][0], "shown once, at subscription"


def test_several_zaps_may_subscribe_to_one_event_and_all_are_listed(zapier):
    ids = {zapier.post("/api/zapier/hooks", json={"target_url": f"{TARGET}/{n}", "event": "member.created"}
                       ).json()["id"] for n in range(2)}
    listed = zapier.get("/api/zapier/hooks").json()["hooks"]
    assert {h["id"] for h in listed} == ids


def test_unsubscribing_is_idempotent(zapier):
    hook = zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "member.created"}).json()
    first = zapier.delete(f"/api/zapier/hooks/{hook['id']}")
    again = zapier.delete(f"/api/zapier/hooks/{hook['id']}")
    assert (first.status_code, first.json()["deleted"]) == (200, True)
    assert (again.status_code, again.json()["deleted"]) == (200, False)
    assert zapier.get("/api/zapier/hooks").json()["hooks"] == []


def test_filters_on_payload_fields_are_kept(zapier):
    response = zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "enrollment.created",
                                                      "filters": {"course_id": "crs_watercolour"}})
    assert response.status_code == 201
    assert response.json()["filters"] == {"course_id": "crs_watercolour"}


def test_a_filter_on_an_unknown_field_is_refused_naming_the_known_ones(zapier):
    response = zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "enrollment.created",
                                                      "filters": {"colour": "red"}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "filter_unknown" and "course_id" in error["message"]


def test_an_unknown_event_is_refused_listing_the_events(zapier):
    response = zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "purchase.done"})
    assert response.status_code == 400
    assert "purchase.completed" in response.json()["error"]["message"]


@pytest.mark.parametrize("body, field", [({"event": "member.created"}, "target_url"),
                                         ({"target_url": TARGET}, "event"),
                                         ({"target_url": TARGET, "event": "member.created", "x": 1}, "x")])
def test_a_malformed_subscription_names_the_field(zapier, body, field):
    response = zapier.post("/api/zapier/hooks", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and field in error["fields"]


def test_every_domain_event_can_be_subscribed(zapier):
    for event in CORE_EVENT_TYPES:
        assert zapier.post("/api/zapier/hooks", json={"target_url": TARGET, "event": event}).status_code == 201
