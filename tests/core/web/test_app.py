"""The web app: JSON errors, body cap, plugin routes, mounting under a prefix, health."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from core import IntegrationInfo, NotFound, hookimpl
from core.web.app import create_app


class RoutesPlugin:
    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="routes", title="Routes", description="Contributes HTTP routes in tests.")

    @hookimpl
    def web_routes(self, ctx):
        async def hello(request):
            tenant = await ctx.tenant_of(request)
            return JSONResponse({"integration": ctx.integration, "tenant": tenant.name if tenant else None})

        async def missing(request):
            raise NotFound("No such widget; list them at /api/routes/widgets.")

        return [Route("/api/routes/hello", hello), Route("/api/routes/missing", missing)]


@pytest.fixture
def served(make_host, live_server):
    host = make_host(plugins={"routes": RoutesPlugin()}, settings={"max_body_bytes": 1024})
    tenant, token = host.tenants.create("Site")
    return host, live_server(create_app(host)), {"Authorization": f"Bearer {token}"}


def test_plugin_routes_are_mounted_with_their_context(served):
    _, url, auth = served
    assert httpx.get(f"{url}/api/routes/hello").json() == {"integration": "routes", "tenant": None}
    assert httpx.get(f"{url}/api/routes/hello", headers=auth).json() == {"integration": "routes", "tenant": "Site"}


def test_errors_are_json_with_code_and_message(served):
    _, url, _ = served
    response = httpx.get(f"{url}/api/routes/missing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found",
                                         "message": "No such widget; list them at /api/routes/widgets."}}
    unknown = httpx.get(f"{url}/no/such/path")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_the_tenant_api_needs_an_identity(served):
    _, url, auth = served
    response = httpx.get(f"{url}/api/integrations")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["error"]["message"]
    assert httpx.get(f"{url}/api/integrations", headers={"Authorization": "Bearer itk_wrong"}).status_code == 401
    listed = httpx.get(f"{url}/api/integrations", headers=auth)
    assert listed.status_code == 200
    assert [i["name"] for i in listed.json()["integrations"]] == ["routes"]
    assert listed.json()["integrations"][0]["state"] == "not_connected"


def test_a_body_over_the_cap_gets_413(served):
    _, url, auth = served
    response = httpx.post(f"{url}/api/integrations/routes/connect", content=b"x" * 2048, headers=auth)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_streamed_body_over_the_cap_gets_413_without_a_content_length(served):
    _, url, auth = served

    def chunks():
        for _ in range(10):
            yield b"y" * 512

    response = httpx.post(f"{url}/api/integrations/routes/connect", content=chunks(),
                          headers={**auth, "content-type": "application/json"})
    assert response.status_code == 413


def test_malformed_json_is_a_clear_400(served):
    _, url, auth = served
    response = httpx.post(f"{url}/api/integrations/routes/connect", content=b"{nope",
                          headers={**auth, "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_the_app_can_be_mounted_under_the_host_apps_prefix(make_host, live_server):
    host = make_host(plugins={"routes": RoutesPlugin()})
    outer = Starlette(routes=[Mount("/integrations-host", app=create_app(host))])
    url = live_server(outer)
    assert httpx.get(f"{url}/integrations-host/healthz").json()["status"] == "ok"
    assert httpx.get(f"{url}/integrations-host/api/routes/hello").status_code == 200


def test_health_is_degraded_but_serving_when_a_plugin_failed(make_host, fixture_plugins, live_server):
    host = make_host(registry={"plugins": {"broken": {"module": "broken_import"}}},
                     settings={"metrics_token": "operator-token"})
    url = live_server(create_app(host))
    assert httpx.get(f"{url}/healthz").json() == {"status": "degraded", "database": "ok"}
    body = httpx.get(f"{url}/healthz/details", headers={"Authorization": "Bearer operator-token"}).json()
    assert body["failed_plugins"] == ["broken"]
    assert body["plugins"][0]["error"].startswith("failed to import")
