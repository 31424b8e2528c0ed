"""The rest of the tenant API: domain events, deliveries (and retry), API keys, subscriptions.

Every handler acts for the authenticated tenant only: ids of another tenant's objects answer 404,
exactly like ids that do not exist, so the API never confirms what another site has. The page
(``core.web.pages``) calls the same functions, so the two cannot drift apart. Each route's OpenAPI
operation sits next to it in ``OPERATIONS``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.errors import ValidationFailed
from core.host import Host
from core.models import ApiKey, Capability, Delivery, DeliveryStatus, DomainEvent, Subscription, Tenant
from core.web.api import read_form_or_json
from core.web.identity import host_of, require_tenant
from core.web.serialize import api_key_json, delivery_json, event_json, subscription_json

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAILING = "failing"
"""Not a stored status: the deliveries that need attention (dead, or pending after a failed attempt)."""


# ---------------------------------------------------------------------------- shared with the page
def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}.",
                               code="invalid_limit")
    return value


def recent_events(host: Host, tenant_id: str, *, event_type: str | None = None,
                  limit: int = DEFAULT_LIMIT) -> list[DomainEvent]:
    return host.events.list(tenant_id, event_type=event_type, limit=limit)


def deliveries_of(host: Host, tenant_id: str, *, status: str | None = None,
                  limit: int = DEFAULT_LIMIT) -> list[Delivery]:
    """This tenant's deliveries, newest first; ``status="failing"`` means the ones needing attention."""
    allowed = [s.value for s in DeliveryStatus] + [FAILING]
    if status is not None and status not in allowed:
        raise ValidationFailed(f"Unknown delivery status {status!r}; use one of {', '.join(allowed)}.",
                               code="invalid_status")
    if status == FAILING:
        dead = host.pipeline.list_deliveries(tenant_id=tenant_id, status=DeliveryStatus.DEAD.value, limit=limit)
        waiting = host.pipeline.list_deliveries(tenant_id=tenant_id, status=DeliveryStatus.PENDING.value,
                                                limit=MAX_LIMIT)
        failing = [*dead, *(d for d in waiting if d.attempts > 0)]
        failing.sort(key=lambda d: d.created_at or EPOCH, reverse=True)
        return failing[:limit]
    return list(host.pipeline.list_deliveries(tenant_id=tenant_id, status=status, limit=limit))


def retry_delivery(host: Host, tenant_id: str, delivery_id: str) -> Delivery:
    return host.pipeline.retry_delivery(delivery_id, tenant_id=tenant_id)


def api_key_integration(host: Host, name: str) -> str:
    """The integration a key is for, if it is loaded and uses API keys (a clear error otherwise)."""
    info = host.plugins.get(name).info
    assert info is not None
    if Capability.API_KEYS not in info.capabilities:
        raise ValidationFailed(f"{info.title} does not use API keys.", code="api_keys_unsupported")
    return name


async def create_api_key(host: Host, tenant: Tenant, integration: str, label: str) -> tuple[ApiKey, str]:
    api_key_integration(host, integration)
    created = await run_in_threadpool(host.api_keys.create, tenant.id, integration, label=label,
                                      actor=f"tenant:{tenant.id}")
    await host.run_plugin_code(integration, "status", _restate, host, tenant, integration)
    return created


async def revoke_api_key(host: Host, tenant: Tenant, key_id: str) -> ApiKey:
    key = await run_in_threadpool(host.api_keys.revoke, key_id, tenant_id=tenant.id, actor=f"tenant:{tenant.id}")
    await host.run_plugin_code(key.integration, "status", _restate, host, tenant, key.integration)
    return key


def _restate(host: Host, tenant: Tenant, integration: str) -> None:
    """Let the integration re-derive its connection's status after its keys changed (no provider I/O,
    but the plugin's code: it runs on the plugin's lane). For an integration that connects with an
    API key, a key on a site that is not connected is the connect step."""
    if integration not in {r.name for r in host.plugins.loaded()}:
        return
    connection = host.connections.find(tenant.id, integration)
    if connection is not None and connection.is_active:
        host.status(tenant, integration, refresh=False)
        return
    info = host.plugins.get(integration).info
    if info is not None and info.connects_with_api_key and host.api_keys.list(tenant.id, integration=integration):
        host.connect(tenant, integration, {}, actor=f"tenant:{tenant.id}")


def subscriptions_of(host: Host, tenant_id: str, integration: str | None = None) -> list[Subscription]:
    return host.subscriptions.list(tenant_id, integration=integration)


# ---------------------------------------------------------------------------- handlers
async def list_events(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    limit = parse_limit(request.query_params.get("limit"))
    events = await run_in_threadpool(recent_events, host, tenant.id, event_type=request.query_params.get("type"),
                                     limit=limit)
    return JSONResponse({"events": [event_json(e) for e in events]})


async def list_deliveries(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    limit = parse_limit(request.query_params.get("limit"))
    found = await run_in_threadpool(deliveries_of, host, tenant.id, status=request.query_params.get("status") or None,
                                    limit=limit)
    return JSONResponse({"deliveries": [delivery_json(d) for d in found]})


async def retry(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    delivery = await run_in_threadpool(retry_delivery, host, tenant.id, request.path_params["id"])
    return JSONResponse({"delivery": delivery_json(delivery)})


async def list_api_keys(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    integration = request.query_params.get("integration") or None
    keys = await run_in_threadpool(host.api_keys.list, tenant.id, integration=integration)
    return JSONResponse({"api_keys": [api_key_json(k) for k in keys]})


async def create_key(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    body = await read_form_or_json(request)
    integration = str(body.get("integration") or "").strip()
    if not integration:
        raise ValidationFailed('Say which integration the key is for: {"integration": "zapier"}.',
                               code="integration_missing")
    key, plaintext = await create_api_key(host, tenant, integration, str(body.get("label") or ""))
    return JSONResponse({"api_key": api_key_json(key), "key": plaintext}, status_code=201,
                        headers={"Cache-Control": "no-store"})


async def revoke_key(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    key = await revoke_api_key(host, tenant, request.path_params["id"])
    return JSONResponse({"api_key": api_key_json(key)})


async def list_subscriptions(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    subs = await run_in_threadpool(subscriptions_of, host, tenant.id, request.query_params.get("integration") or None)
    return JSONResponse({"subscriptions": [subscription_json(s) for s in subs]})


ROUTES = [
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/deliveries", list_deliveries, methods=["GET"]),
    Route("/api/deliveries/{id}/retry", retry, methods=["POST"]),
    Route("/api/api-keys", list_api_keys, methods=["GET"]),
    Route("/api/api-keys", create_key, methods=["POST"]),
    Route("/api/api-keys/{id}", revoke_key, methods=["DELETE"]),
    Route("/api/subscriptions", list_subscriptions, methods=["GET"]),
]


# ---------------------------------------------------------------------------- OpenAPI, next to the routes
def _ok(description: str, schema_ref: str, key: str, *, many: bool, status: str = "200") -> dict[str, Any]:
    item: dict[str, Any] = {"$ref": f"#/components/schemas/{schema_ref}"}
    prop = {"type": "array", "items": item} if many else item
    return {status: {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "required": [key], "properties": {key: prop}}}}}}


def _param(name: str, where: str, description: str, *, schema: dict[str, Any] | None = None,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema or {"type": "string"}}


LIMIT = _param("limit", "query", f"How many to return (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}).",
               schema={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})
NOT_FOUND = "404"

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/api/events"): {
        "operationId": "listEvents", "tags": ["events"], "summary": "Recent domain events of this site",
        "description": "Newest first: purchases, refunds, disputes, payouts, integration changes and the host "
                       "app's own events.",
        "parameters": [_param("type", "query", "Only this event type, e.g. purchase.completed."), LIMIT],
        "responses": _ok("The events.", "DomainEvent", "events", many=True),
    },
    ("get", "/api/deliveries"): {
        "operationId": "listDeliveries", "tags": ["deliveries"], "summary": "Outgoing webhook deliveries",
        "description": "Newest first. `status=failing` lists the ones needing attention (dead, or pending after "
                       "a failed attempt).",
        "parameters": [_param("status", "query", "Filter by status.", schema={
            "type": "string", "enum": [s.value for s in DeliveryStatus] + [FAILING]}), LIMIT],
        "responses": _ok("The deliveries.", "Delivery", "deliveries", many=True),
    },
    ("post", "/api/deliveries/{id}/retry"): {
        "operationId": "retryDelivery", "tags": ["deliveries"], "summary": "Send a failed delivery again now",
        "parameters": [_param("id", "path", "The delivery id (also its webhook-id header).")],
        "responses": {**_ok("The delivery, queued again.", "Delivery", "delivery", many=False),
                      NOT_FOUND: {"$ref": "#/components/responses/NotFound"}},
    },
    ("get", "/api/api-keys"): {
        "operationId": "listApiKeys", "tags": ["api-keys"], "summary": "Active API keys (never the keys themselves)",
        "parameters": [_param("integration", "query", "Only keys for this integration, e.g. zapier.")],
        "responses": _ok("The keys.", "ApiKey", "api_keys", many=True),
    },
    ("post", "/api/api-keys"): {
        "operationId": "createApiKey", "tags": ["api-keys"], "summary": "Create an API key (shown this once)",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["integration"], "properties": {
                "integration": {"type": "string", "example": "zapier"},
                "label": {"type": "string", "maxLength": 200, "example": "My Zaps"}}}}}},
        "responses": {"201": {"description": "The key's public record and, this once, the key itself.",
                              "content": {"application/json": {"schema": {
                                  "type": "object", "required": ["api_key", "key"], "properties": {
                                      "api_key": {"$ref": "#/components/schemas/ApiKey"},
                                      "key": {"type": "string", "description": "Store it now; it is never "
                                                                               "shown again."}}}}}},
                      "400": {"$ref": "#/components/responses/Invalid"},
                      NOT_FOUND: {"$ref": "#/components/responses/NotFound"}},
    },
    ("delete", "/api/api-keys/{id}"): {
        "operationId": "revokeApiKey", "tags": ["api-keys"], "summary": "Revoke an API key (idempotent)",
        "parameters": [_param("id", "path", "The key's id.")],
        "responses": {**_ok("The revoked key.", "ApiKey", "api_key", many=False),
                      NOT_FOUND: {"$ref": "#/components/responses/NotFound"}},
    },
    ("get", "/api/subscriptions"): {
        "operationId": "listSubscriptions", "tags": ["subscriptions"],
        "summary": "Webhook subscriptions (e.g. active Zaps)",
        "parameters": [_param("integration", "query", "Only this integration's subscriptions.")],
        "responses": _ok("The subscriptions.", "Subscription", "subscriptions", many=True),
    },
}
