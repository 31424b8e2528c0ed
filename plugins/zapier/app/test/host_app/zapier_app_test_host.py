"""Stands in for the Intellectra host app in the Zapier app's tests (loaded via a generated registry).

It answers ``perform_action`` for ``enroll_member`` and offers ``POST /api/test-host/emit`` so a
test can emit a domain event for the signed-in tenant, as the host app would with ``host.emit``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import Host, IntegrationInfo, Tenant, ValidationFailed, hookimpl, require_tenant


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


@hookimpl
def web_routes(host: Host) -> list[Route]:
    async def emit(request: Request) -> Response:
        tenant = await require_tenant(request)
        body = json.loads(await request.body())
        event = await run_in_threadpool(host.emit, tenant.id, body["type"], body["data"])
        return JSONResponse({"id": event.id}, status_code=201)

    return [Route("/api/test-host/emit", emit, methods=["POST"])]
