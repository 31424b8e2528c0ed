"""``POST /webhooks/{name}``: hand the raw request to the pipeline's intake."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.web.identity import host_of


async def receive_webhook(request: Request) -> Response:
    host = host_of(request)
    body = await request.body()
    result = await host.pipeline.intake.receive(request.path_params["name"], body, request.headers)
    return JSONResponse(result.body, status_code=result.status_code, headers=result.headers)
