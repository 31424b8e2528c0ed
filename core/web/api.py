"""The tenant API: integrations, connect, callback, disconnect, status. Every call acts for the
authenticated tenant only."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from core.converter import converter
from core.errors import IntellectraError, ValidationFailed
from core.web.identity import host_of, require_tenant
from core.web.serialize import connection_json, integration_json
from core.web.session import SCOPE_KEY as SESSION_SCOPE_KEY
from core.web.session import own_session

FLASH_KEY = "flash"
CANCELLED = "access_denied"
"""The error code of a connect the creator cancelled at the provider (OAuth's ``access_denied``)."""


async def read_form_or_json(request: Request) -> dict[str, str]:
    """Accept a JSON object or an HTML form; anything else is a clear 400/415."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: str(v) for k, v in form.items() if isinstance(v, str)}
    body = await request.body()
    if not body.strip():
        return {}
    if ctype not in ("application/json", ""):
        raise ValidationFailed(f"Send JSON (Content-Type: application/json), not {ctype}.",
                               code="unsupported_media_type", http_status=415)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep to parse
        raise ValidationFailed(f"The body is not valid JSON ({exc.args[0]}).", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", code="invalid_json")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


async def list_integrations(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)

    def build() -> list[dict[str, Any]]:
        return [integration_json(record, host.connections.find(tenant.id, record.name))
                for record in host.plugins.loaded()]

    return JSONResponse({"integrations": await run_in_threadpool(build)})


async def connect(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    name = request.path_params["name"]
    form = await read_form_or_json(request)
    outcome = await host.run_plugin_code(name, "connect", host.connect, tenant, name, form, actor=f"tenant:{tenant.id}")
    if outcome.redirect_url:
        return JSONResponse({"redirect_url": outcome.redirect_url})
    return JSONResponse({"connection": connection_json(outcome.connection)}, status_code=201)


async def callback(request: Request) -> Response:
    """The browser comes back here from the provider; the result is a flash on the settings page."""
    host = host_of(request)
    name = request.path_params["name"]
    try:
        tenant = await require_tenant(request)
        outcome = await host.run_plugin_code(name, "complete_connect", host.complete_connect, tenant, name,
                                             dict(request.query_params),
                                             actor=f"tenant:{tenant.id}")
    except IntellectraError as exc:
        # Cancelling at the provider is a choice the creator made, not a failure: said plainly, not in red.
        kind = "info" if exc.code == CANCELLED else "error"
        return _back_to_settings(request, kind, exc.message, code=exc.code, status=exc.http_status, integration=name)
    if outcome.redirect_url:
        return RedirectResponse(outcome.redirect_url, status_code=303)
    assert outcome.connection is not None
    record = host.plugins.get(name)
    title = record.info.title if record.info else name
    conn = outcome.connection
    message = f"{title} is connected." if conn.state.value == "connected" else f"{title} is connected. {conn.reason}"
    return _back_to_settings(request, "success" if conn.state.value == "connected" else "warning", message,
                             code=conn.state.value, integration=name)


def _back_to_settings(request: Request, kind: str, message: str, *, code: str, status: int = 400,
                      integration: str = "") -> Response:
    """The outcome as a flash in the integration's card (JSON for clients that ask for it)."""
    if SESSION_SCOPE_KEY in request.scope:
        own_session(request)[FLASH_KEY] = {"kind": kind, "message": message, "code": code, "integration": integration}
    wants_json = "application/json" in request.headers.get("accept", "")
    if wants_json:
        status = 200 if kind in ("success", "warning") else status
        return JSONResponse({"result": kind, "code": code, "message": message}, status_code=status)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/settings/integrations#flash", status_code=303)


async def disconnect(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    name = request.path_params["name"]
    connection = await host.run_plugin_code(name, "disconnect", host.disconnect, tenant, name,
                                            actor=f"tenant:{tenant.id}")
    return JSONResponse({"connection": connection_json(connection)})


async def status(request: Request) -> Response:
    tenant = await require_tenant(request)
    host = host_of(request)
    refresh = request.query_params.get("refresh", "").lower() in ("1", "true", "yes")
    name = request.path_params["name"]
    connection = await host.run_plugin_code(name, "status", host.status, tenant, name, refresh=refresh)
    return JSONResponse({"connection": connection_json(connection)})


async def submit_card_form(request: Request) -> Response:
    """A card form as JSON: the same checks and hook as the page's form, the result as the body."""
    tenant = await require_tenant(request)
    host = host_of(request)
    values = await read_form_or_json(request)
    name = request.path_params["name"]
    result = await host.run_plugin_code(name, "submit_card_form", host.submit_card_form, tenant, name,
                                        request.path_params["form"], values,
                                        actor=f"tenant:{tenant.id}")
    return JSONResponse({"result": converter.unstructure(result)})


ROUTES = [
    Route("/api/integrations", list_integrations, methods=["GET"]),
    Route("/api/integrations/{name}/connect", connect, methods=["POST"]),
    Route("/integrations/{name}/callback", callback, methods=["GET"]),
    Route("/api/integrations/{name}/disconnect", disconnect, methods=["POST"]),
    Route("/api/integrations/{name}/status", status, methods=["GET"]),
    Route("/api/integrations/{name}/forms/{form}", submit_card_form, methods=["POST"]),
]
