"""``/openapi.json``: a valid OpenAPI 3.1 document that lists every API route the app serves."""

from __future__ import annotations

from pathlib import Path

import httpx
from openapi_spec_validator import validate
from starlette.responses import JSONResponse
from starlette.routing import Route

from core import IntegrationInfo, hookimpl
from core.registry import load_registry
from core.web.app import create_app
from core.web.openapi import CORE_OPERATIONS, api_endpoints
from core.web.tenant_api import OPERATIONS

REPO = Path(__file__).resolve().parents[3]


class Documented:
    """A plugin with one route documented the Starlette way (YAML after ---) and one not at all."""

    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="widgets", title="Widgets", description="Routes for the OpenAPI tests.")

    @hookimpl
    def web_routes(self, ctx):
        async def list_widgets(request):
            """List the site's widgets.

            ---
            operationId: listWidgets
            responses:
              "200":
                description: The widgets.
            """
            return JSONResponse({"widgets": []})

        async def poke(request):
            return JSONResponse({})

        return [Route("/api/widgets/items", list_widgets, methods=["GET"]),
                Route("/api/widgets/items/{item_id}/poke", poke, methods=["POST"])]


def served_document(host, live_server) -> tuple[dict, list]:
    app = create_app(host)
    url = live_server(app)
    response = httpx.get(f"{url}/openapi.json")
    assert response.status_code == 200
    return response.json(), app.routes


def listed(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, ops in document["paths"].items() for method in ops}


def test_the_document_is_valid_openapi_and_lists_every_api_route(make_host, live_server):
    document, routes = served_document(make_host(plugins={"widgets": Documented()}), live_server)
    validate(document)
    served = {(e.http_method, e.path) for e in api_endpoints(routes)}
    assert served, "the app serves API routes"
    assert listed(document) == served


def test_every_core_route_is_documented_next_to_it(make_host, live_server):
    document, routes = served_document(make_host(), live_server)
    for method, path in {(e.http_method, e.path) for e in api_endpoints(routes)}:
        operation = document["paths"][path][method]
        assert (method, path) in {**CORE_OPERATIONS, **OPERATIONS}, f"{method} {path} has no declared operation"
        assert operation["operationId"] and operation["summary"] and operation["responses"]


def test_plugin_routes_use_their_docstrings(make_host, live_server):
    document, _ = served_document(make_host(plugins={"widgets": Documented()}), live_server)
    documented = document["paths"]["/api/widgets/items"]["get"]
    assert documented["operationId"] == "listWidgets" and documented["summary"] == "List the site's widgets."
    bare = document["paths"]["/api/widgets/items/{item_id}/poke"]["post"]
    assert bare["summary"] == "POST /api/widgets/items/{item_id}/poke"
    assert bare["parameters"] == [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def test_the_component_schemas_follow_the_models(make_host, live_server):
    document, _ = served_document(make_host(), live_server)
    schemas = document["components"]["schemas"]
    assert schemas["ApiKey"]["properties"]["revoked_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert schemas["Delivery"]["properties"]["status"]["enum"] == ["pending", "delivered", "dead", "cancelled"]
    assert "secrets" not in schemas["Connection"]["properties"]


def test_the_deployments_own_plugins_are_listed_too(make_host, live_server, monkeypatch):
    """With this repository's registry.toml (whatever of it loads here), the document stays complete and valid."""
    for name, value in (("STRIPE_SECRET_KEY", "sk_test_placeholder"), ("STRIPE_CLIENT_ID", "ca_placeholder"),
                        ("STRIPE_WEBHOOK_SECRET", "whsec_placeholder")):
        monkeypatch.setenv(name, value)
    registry = REPO / "registry.toml"
    document, routes = served_document(make_host(registry=load_registry(registry)), live_server)
    validate(document)
    assert listed(document) == {(e.http_method, e.path) for e in api_endpoints(routes)}
