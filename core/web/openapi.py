"""``GET /openapi.json``: the tenant API's OpenAPI 3.1 document, written from the app's routes.

The document walks the routes the app actually serves (so nothing is listed that does not exist,
and a test checks that every ``/api/...`` route is listed). Each core operation is declared next
to its route (``tenant_api.OPERATIONS``; ``CORE_OPERATIONS`` below for ``core.web.api``); a plugin
documents its own routes the way Starlette does, with YAML after ``---`` in the handler's docstring,
and an undocumented route still appears with its docstring's first line. Component schemas are
generated from the attrs models, so they follow the models.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import BaseSchemaGenerator, EndpointInfo

from core.host import Host
from core.models import (
    ApiKey,
    CardForm,
    CardFormResult,
    Choice,
    ConnectionState,
    ConnectOption,
    Delivery,
    DomainEvent,
    Field,
    Subscription,
)
from core.models import Connection as ConnectionModel
from core.web import tenant_api

API_PREFIX = "/api/"
NAME = {"name": "name", "in": "path", "required": True, "description": "The integration, e.g. stripe_connect.",
        "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(schema)}}}


CONNECTION_RESPONSE = _json("The connection.", {"type": "object", "required": ["connection"],
                                                 "properties": {"connection": _ref("Connection")}})
ERRORS = {"401": {"$ref": "#/components/responses/Unauthenticated"},
          "404": {"$ref": "#/components/responses/NotFound"}}

CORE_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/api/integrations"): {
        "operationId": "listIntegrations", "tags": ["integrations"],
        "summary": "Every loaded integration with this site's connection state",
        "responses": {"200": _json("The integrations.", {
            "type": "object", "required": ["integrations"],
            "properties": {"integrations": {"type": "array", "items": _ref("Integration")}}}),
            "401": ERRORS["401"]},
    },
    ("post", "/api/integrations/{name}/connect"): {
        "operationId": "connectIntegration", "tags": ["integrations"],
        "summary": "Start connecting; returns where to send the creator, or the connection",
        "description": "Send the integration's `connect_fields` and, when it declares several ways to connect, "
                       "`option`. Browsers go to `redirect_url` and come back to `/integrations/{name}/callback`.",
        "parameters": [NAME],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": {"type": "string"},
            "properties": {"option": {"type": "string", "example": "oauth"}}}}}},
        "responses": {
            "200": _json("Send the creator to the provider.", {
                "type": "object", "required": ["redirect_url"],
                "properties": {"redirect_url": {"type": "string", "format": "uri"}}}),
            "201": CONNECTION_RESPONSE,
            "400": {"$ref": "#/components/responses/Invalid"},
            "409": {"$ref": "#/components/responses/Conflict"}, **ERRORS},
    },
    ("post", "/api/integrations/{name}/disconnect"): {
        "operationId": "disconnectIntegration", "tags": ["integrations"],
        "summary": "Disconnect (idempotent): the provider is asked to revoke, credentials are forgotten",
        "parameters": [NAME],
        "responses": {"200": _json("The connection (null if there never was one).", {
            "type": "object", "required": ["connection"],
            "properties": {"connection": {"oneOf": [_ref("Connection"), {"type": "null"}]}}}), **ERRORS},
    },
    ("get", "/api/integrations/{name}/status"): {
        "operationId": "integrationStatus", "tags": ["integrations"],
        "summary": "The connection's state, reason and where to fix it",
        "parameters": [NAME, {"name": "refresh", "in": "query", "required": False,
                              "description": "1 to ask the provider now instead of answering from what is stored.",
                              "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}}],
        "responses": {"200": CONNECTION_RESPONSE, "409": {"$ref": "#/components/responses/Conflict"}, **ERRORS},
    },
    ("post", "/api/integrations/{name}/forms/{form}"): {
        "operationId": "submitCardForm", "tags": ["integrations"],
        "summary": "Submit one of the integration's card forms (e.g. Stripe's create-offer)",
        "description": "The forms are the integration's `card_forms`; send each field's `name` with its value. "
                       "Required fields and select choices are checked before the integration acts.",
        "parameters": [NAME, {"name": "form", "in": "path", "required": True,
                              "description": "The form's name, e.g. create_offer.", "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": {"type": "string"}}}}},
        "responses": {
            "200": _json("What happened, and where to go next.", {
                "type": "object", "required": ["result"], "properties": {"result": _ref("CardFormResult")}}),
            "400": {"$ref": "#/components/responses/Invalid"},
            "409": {"$ref": "#/components/responses/Conflict"}, **ERRORS},
    },
}


# ---------------------------------------------------------------------------- schemas from the models
def _type_schema(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        schemas = [_type_schema(a) for a in args if a is not type(None)]
        nullable = type(None) in args
        if len(schemas) == 1 and "type" in schemas[0] and isinstance(schemas[0]["type"], str):
            return {**schemas[0], "type": [schemas[0]["type"], "null"]} if nullable else schemas[0]
        return {"oneOf": schemas + ([{"type": "null"}] if nullable else [])}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [m.value for m in tp]}
    if isinstance(tp, type) and attrs.has(tp):
        return _ref(tp.__name__)
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if tp is datetime:
        return {"type": "string", "format": "date-time"}
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return {"type": "object"}
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence | frozenset | set):
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    return {}


def model_schema(cls: type[Any]) -> dict[str, Any]:
    """A JSON Schema of an attrs model as the API renders it (cattrs unstructure)."""
    hints = typing.get_type_hints(cls)
    properties = {f.name: _type_schema(hints[f.name]) for f in attrs.fields(cls)}
    required = [f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if cls.__doc__:
        schema["description"] = cls.__doc__.strip().splitlines()[0]
    return schema


def components() -> dict[str, Any]:
    schemas = {cls.__name__: model_schema(cls)
               for cls in (ApiKey, Delivery, DomainEvent, Subscription, Field, Choice, ConnectOption, CardForm,
                           CardFormResult)}
    schemas["Connection"] = model_schema(ConnectionModel)
    schemas["Integration"] = {
        "type": "object", "description": "A loaded integration and this site's connection to it.",
        "required": ["name", "title", "description", "capabilities", "state", "connection"],
        "properties": {
            "name": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "capabilities": {"type": "array", "items": {"type": "string"}},
            "connect_fields": {"type": "array", "items": _ref("Field")},
            "connect_options": {"type": "array", "items": _ref("ConnectOption")},
            "card_forms": {"type": "array", "items": _ref("CardForm")},
            "state": {"type": "string", "enum": [s.value for s in ConnectionState] + ["not_connected"]},
            "reason": {"type": "string"},
            "action_url": {"type": ["string", "null"]},
            "connection": {"oneOf": [_ref("Connection"), {"type": "null"}]},
        },
    }
    schemas["Error"] = {
        "type": "object", "required": ["error"], "description": "Every error has this shape.",
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "description": "Stable, for machines."},
            "message": {"type": "string", "description": "What was wrong and what to do, for people."},
            "action_url": {"type": "string", "description": "Where it can be fixed, when there is such a place."}}}},
    }

    def error(description: str) -> dict[str, Any]:
        return _json(description, _ref("Error"))

    return {
        "schemas": schemas,
        "responses": {
            "Unauthenticated": error("No valid bearer token or session."),
            "NotFound": error("No such object for this site (another site's ids look exactly like missing ones)."),
            "Invalid": error("The request is invalid; the message says what to change."),
            "Conflict": error("The current state does not allow it (e.g. not connected, account already in use)."),
            "CsrfFailed": error("A cookie-authenticated call without the X-CSRF-Token header, or from another "
                                "site's page (its Origin or Referer is not this host)."),
        },
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "The site's token from `intellectra-integrations tenants create`."},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "intellectra_session",
                              "description": "The settings page's signed session; unsafe methods also need the "
                                             "X-CSRF-Token header (the page's <meta name=\"csrf-token\">) and an "
                                             "Origin (or Referer) on this host. Any Authorization header other "
                                             "than a bearer token leaves these checks in force."},
        },
    }


# ---------------------------------------------------------------------------- walking the routes
def _documented(endpoint: EndpointInfo) -> dict[str, Any]:
    """A plugin route's operation from its docstring: YAML after ``---``, else the first line as summary."""
    doc = endpoint.func.__doc__ or ""
    operation: dict[str, Any] = {}
    if "---" in doc:
        try:
            parsed = yaml.safe_load(doc.split("---")[-1])
        except yaml.YAMLError:
            parsed = None
        if isinstance(parsed, dict):
            operation = parsed
    first_line = doc.strip().splitlines()[0] if doc.strip() else ""
    operation.setdefault("summary", first_line or f"{endpoint.http_method.upper()} {endpoint.path}")
    operation.setdefault("responses", {"default": {"description": "See the integration's documentation."}})
    segments = endpoint.path.removeprefix(API_PREFIX).split("/")
    operation.setdefault("tags", [segments[0]])
    params = [p.strip("{}") for p in endpoint.path.split("/") if p.startswith("{") and p.endswith("}")]
    declared = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
    operation.setdefault("parameters", [])
    for name in params:
        if name not in declared:
            operation["parameters"].append({"name": name, "in": "path", "required": True,
                                            "schema": {"type": "string"}})
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def api_endpoints(routes: Sequence[BaseRoute]) -> list[EndpointInfo]:
    """Every ``/api/...`` (method, path) the app serves."""
    return [e for e in BaseSchemaGenerator().get_endpoints(list(routes)) if e.path.startswith(API_PREFIX)]


def build_document(routes: Sequence[BaseRoute], *, version: str, server_url: str = "") -> dict[str, Any]:
    known = {**CORE_OPERATIONS, **tenant_api.OPERATIONS}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in api_endpoints(routes):
        operation = known.get((endpoint.http_method, endpoint.path)) or _documented(endpoint)
        paths.setdefault(endpoint.path, {})[endpoint.http_method] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Intellectra Integrations tenant API", "version": version,
                 "description": "Everything the Settings > Integrations page does, as JSON. Every call acts for "
                                "the authenticated site only. Errors are `{\"error\": {\"code\", \"message\"}}`."},
        "paths": dict(sorted(paths.items())),
        "components": components(),
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def openapi_routes(host: Host) -> list[BaseRoute]:
    from core import __version__

    async def openapi_json(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        document = build_document(request.app.routes, version=__version__, server_url=root or "")
        return JSONResponse(document)

    return [Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)]
