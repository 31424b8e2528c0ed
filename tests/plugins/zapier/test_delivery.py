"""End to end: a domain event reaches a subscribed receiver; a 410 from it removes the subscription."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Receiver:
    """A stand-in for hooks.zapier.com: records what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, object]]] = []
        self.status = 200

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), json.loads(await request.body())))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hooks/{zap}", hook, methods=["POST"])])


async def test_an_event_reaches_the_subscribed_target_in_the_sample_shape(site, zapier, zapier_host, live_server,
                                                                          clock):
    receiver = Receiver()
    target = live_server(receiver.app()) + "/hooks/zap1"
    zapier.post("/api/zapier/hooks", json={"target_url": target, "event": "enrollment.created",
                                           "filters": {"course_id": "crs_watercolour"}})
    clock.advance(1)
    data = {"enrollment_id": "enr_1", "member_id": "mem_1", "email": "m@example.com", "course_id": "crs_watercolour"}
    event = zapier_host.emit(site.tenant.id, "enrollment.created", data)
    zapier_host.emit(site.tenant.id, "enrollment.created", {**data, "course_id": "crs_other"})  # filtered out
    await zapier_host.pipeline.run_once()
    ((headers, body),) = receiver.received
    assert body["id"] == event.id and body["data"]["course_id"] == "crs_watercolour"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
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
