"""Fixtures: a stand-in for Slack's incoming webhooks on loopback, and a host with the plugin loaded.

``make_host``, ``live_server`` and ``recorder`` come from the host's test kit (``core.testing``),
which pytest loads through its ``pytest11`` entry point.
"""

from __future__ import annotations

import attrs
import pytest
from core import Host, Tenant
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import intellectra_slack


@attrs.define
class FakeSlack:
    """Records what was posted; ``answer`` is what it replies (Slack answers 200 "ok")."""

    url: str = ""
    messages: list[dict[str, object]] = attrs.field(factory=list)
    answer: tuple[int, str] = (200, "ok")

    def webhook_url(self, channel: str = "sales") -> str:
        return f"{self.url}/services/T0001/B0001/{channel}"

    def texts(self) -> list[object]:
        return [message["text"] for message in self.messages]


@pytest.fixture
def fake_slack(live_server) -> FakeSlack:
    slack = FakeSlack()

    async def incoming_webhook(request: Request) -> PlainTextResponse:
        slack.messages.append(await request.json())
        status, text = slack.answer
        return PlainTextResponse(text, status_code=status)

    slack.url = live_server(Starlette(routes=[Route("/services/{path:path}", incoming_webhook, methods=["POST"])]))
    return slack


@pytest.fixture
def slack_host(make_host) -> Host:
    """A development host: the plugin accepts the loopback stand-in's URL."""
    return make_host(plugins={"slack": intellectra_slack}, config={"slack": {"allow_loopback_urls": True}})


@pytest.fixture
def site(slack_host: Host) -> Tenant:
    tenant, _token = slack_host.tenants.create("Ada's Watercolours")
    return tenant

