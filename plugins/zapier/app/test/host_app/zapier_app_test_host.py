"""Stands in for the Intellectra host app in the Zapier app's tests (loaded via a generated registry).

It answers ``perform_action`` for ``enroll_member`` and offers ``POST /api/test-host/emit`` so a
test can emit a domain event for the signed-in tenant, as the host app does: with ``host.emit`` on
the ``Host`` it creates itself (routes get a plugin context, never the served host; this one shares
the served database, whose workers deliver what it emits).
"""

from __future__ import annotations

import json
import functools
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import Host, IntegrationContext, IntegrationInfo, Tenant, ValidationFailed, hookimpl


@hookimpl
def integration_info() -> IntegrationInfo:
    return IntegrationInfo(name="test_host_app", title="Test host app", capabilities=frozenset(),
                           description="Stands in for the Intellectra host app in the Zapier app's tests.")


@hookimpl
def perform_action(tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if action != "enroll_member":
        return None
    if input["course_id"] != "crs_watercolour":
        raise ValidationFailed(f"There is no course {input['course_id']!r} on this site.", code="course_unknown")
    return {"enrollment_id": "enr_test", "email": input["email"], "course_id": input["course_id"],
            "site": tenant.name}


@functools.cache
def host_app() -> Host:
    """The host app's own ``Host`` on the same database and environment (it loads no plugins: it only emits)."""
    return Host.create(plugin_filter=set(), builtins=False)


@hookimpl
def web_routes(ctx: IntegrationContext) -> list[Route]:
    async def emit(request: Request) -> Response:
        tenant = await ctx.require_tenant(request)
        body = json.loads(await request.body())
        event = await run_in_threadpool(host_app().emit, tenant.id, body["type"], body["data"])
        return JSONResponse({"id": event.id}, status_code=201)

    return [Route("/api/test-host/emit", emit, methods=["POST"])]
