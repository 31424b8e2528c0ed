"""``POST /webhooks/{name}``: a provider's webhook goes straight to intake, past the middlewares only browsers need."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from core import InboundEvent, InboundRequest, IntegrationInfo, hookimpl
from core.web import session
from core.web.app import create_app
from core.web.webhooks import webhook_name

JSON = {"content-type": "application/json"}


class Hooks:
    """Receives webhooks whose body is ``{"id": ...}`` (no signature to check in these tests)."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="hooks", title="Hooks", description="Receives webhooks in tests.")

    @hookimpl
    def verify_webhook(self, request: InboundRequest) -> Sequence[InboundEvent]:
        event = json.loads(request.body)
        return [InboundEvent(external_id=event["id"], type="thing.happened", payload=event)]


@pytest.fixture
def host(make_host):
    return make_host(plugins={"hooks": Hooks()})


@pytest.fixture
def session_reads(monkeypatch):
    """How many requests the app's session middleware read a cookie for."""
    reads: list[str] = []
    load = session.OwnSessionMiddleware._load

    def counted(self, scope):
        reads.append(scope["path"])
        return load(self, scope)

    monkeypatch.setattr(session.OwnSessionMiddleware, "_load", counted)
    return reads


def test_a_webhook_is_stored_and_answered_without_the_session_and_csrf_middlewares(host, live_server, recorder,
                                                                                   session_reads):
    url = live_server(create_app(host))

    response = httpx.post(f"{url}/webhooks/hooks", content=b'{"id": "evt_1"}',
                          headers={**JSON, "cookie": "intellectra_session=whatever"})

    assert response.status_code == 200 and response.json() == {"received": 1, "duplicates": 0}
    assert "set-cookie" not in response.headers
    assert [e.external_id for e in recorder.inbound_events()] == ["evt_1"]
    assert session_reads == []
    httpx.get(f"{url}/healthz")
    assert session_reads == ["/healthz"], "every other request still goes through the session middleware"


def test_a_refused_webhook_gets_intakes_answer_with_its_headers(host, live_server):
    url = live_server(create_app(host))

    unknown = httpx.post(f"{url}/webhooks/nobody", content=b'{"id": "evt_1"}', headers=JSON)
    not_json = httpx.post(f"{url}/webhooks/hooks", content=b"id=evt_1",
                          headers={"content-type": "application/x-www-form-urlencoded"})

    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "integration_not_found"
    assert not_json.status_code == 415 and not_json.json()["error"]["code"] == "unsupported_media_type"


def test_the_checks_every_request_gets_still_come_first(make_host, live_server):
    host = make_host(plugins={"hooks": Hooks()}, settings={"max_body_bytes": 64})
    url = live_server(create_app(host))

    too_big = httpx.post(f"{url}/webhooks/hooks", content=b'{"id": "' + b"x" * 100 + b'"}', headers=JSON)
    foreign_host = httpx.post(f"{url}/webhooks/hooks", content=b'{"id": "evt_1"}',
                              headers={**JSON, "host": "attacker.example"})

    assert too_big.status_code == 413
    assert foreign_host.status_code == 400


def test_a_webhook_reaches_the_app_mounted_under_the_host_apps_prefix(host, live_server, recorder, session_reads):
    url = live_server(Starlette(routes=[Mount("/integrations", app=create_app(host))]))

    response = httpx.post(f"{url}/integrations/webhooks/hooks", content=b'{"id": "evt_1"}', headers=JSON)

    assert response.status_code == 200
    assert [e.external_id for e in recorder.inbound_events()] == ["evt_1"]
    assert session_reads == []


def test_other_methods_and_paths_under_webhooks_get_the_routers_answers(host, live_server):
    url = live_server(create_app(host))

    assert httpx.get(f"{url}/webhooks/hooks").status_code == 405
    assert httpx.post(f"{url}/webhooks/hooks/extra", content=b"{}", headers=JSON).status_code == 404
    assert httpx.post(f"{url}/webhooks/", content=b"{}", headers=JSON).status_code == 404


@pytest.mark.parametrize(("method", "path", "root_path", "name"), [
    ("POST", "/webhooks/stripe_connect", "", "stripe_connect"),
    ("POST", "/integrations/webhooks/stripe_connect", "/integrations", "stripe_connect"),
    ("POST", "/webhooks/stripe_connect", "/integrations", "stripe_connect"),
    ("GET", "/webhooks/stripe_connect", "", None),
    ("POST", "/webhooks/", "", None),
    ("POST", "/webhooks/a/b", "", None),
    ("POST", "/webhooksx/a", "", None),
    ("POST", "/api/webhooks/a", "", None),
])
def test_webhook_name_matches_what_the_route_matches(method, path, root_path, name):
    scope = {"type": "http", "method": method, "path": path, "root_path": root_path}
    assert webhook_name(scope) == name
