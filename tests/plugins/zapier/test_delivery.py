"""End to end: a domain event reaches a subscribed receiver; a 410 from it removes the subscription."""

from __future__ import annotations

from standardwebhooks import Webhook
from zapier_kit import Receiver


async def test_an_event_reaches_the_subscribed_target_in_the_sample_shape(site, zapier, zapier_host, live_server,
                                                                          clock, recorder):
    receiver = Receiver()
    target = live_server(receiver.app()) + "/hooks/zap1"
    hook = zapier.post("/api/zapier/hooks", json={"target_url": target, "event": "enrollment.created",
                                                  "filters": {"course_id": "crs_watercolour"}}).json()
    clock.advance(1)
    data = {"enrollment_id": "enr_1", "member_id": "mem_1", "email": "m@example.com", "course_id": "crs_watercolour"}
    event = zapier_host.emit(site.tenant.id, "enrollment.created", data)
    zapier_host.emit(site.tenant.id, "enrollment.created", {**data, "course_id": "crs_other"})  # filtered out
    await zapier_host.pipeline.run_once()
    assert len(receiver.received) == 1, recorder.deliveries()
    ((headers, body),) = receiver.received
    assert body["id"] == event.id and body["data"]["course_id"] == "crs_watercolour"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
    assert Webhook(hook["secret"]).verify(receiver.raw[0], headers) == body, "signed with the secret it was given"
    sample = zapier.get("/api/zapier/triggers/enrollment.created/sample").json()
    assert body in sample


async def test_a_410_from_zapier_removes_the_subscription(site, zapier, zapier_host, live_server):
    receiver = Receiver()
    receiver.status = 410
    target = live_server(receiver.app()) + "/hooks/zap-deleted"
    zapier.post("/api/zapier/hooks", json={"target_url": target, "event": "member.created"})
    zapier_host.emit(site.tenant.id, "member.created", {"member_id": "mem_1", "email": "m@example.com"})
    await zapier_host.pipeline.run_once()
    assert len(receiver.received) == 1
    assert zapier.get("/api/zapier/hooks").json()["hooks"] == []
    zapier_host.emit(site.tenant.id, "member.created", {"member_id": "mem_2", "email": "n@example.com"})
    await zapier_host.pipeline.run_once()
    assert len(receiver.received) == 1
