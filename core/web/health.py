"""``GET /healthz`` for anyone (up or not), ``GET /healthz/details`` for operators (see ``core.health``)."""

from __future__ import annotations

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.health import operator_health, public_health
from core.web.identity import host_of
from core.web.operator import require_operator


async def healthz(request: Request) -> Response:
    body = await anyio.to_thread.run_sync(public_health, host_of(request), limiter=_probe_threads(request))
    return JSONResponse(body, status_code=503 if body["status"] == "unavailable" else 200)


async def healthz_details(request: Request) -> Response:
    require_operator(request)
    host = host_of(request)
    body = await anyio.to_thread.run_sync(operator_health, host, limiter=_probe_threads(request))
    body["pipeline"] = host.pipeline.metrics  # this process's counters
    return JSONResponse(body, status_code=503 if body["status"] == "unavailable" else 200)


def _probe_threads(request: Request) -> anyio.CapacityLimiter:
    """``/healthz``'s own threads: the shared pool may be full of plugin web routes' calls, and a load
    balancer must still hear at once whether the host is up."""
    state = request.app.state
    if getattr(state, "health_threads", None) is None:
        state.health_threads = anyio.CapacityLimiter(4)
    limiter: anyio.CapacityLimiter = state.health_threads
    return limiter
