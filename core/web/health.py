"""``GET /healthz``: plugins and database, for load balancers and operators."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.plugins import PluginState
from core.web.identity import host_of


async def healthz(request: Request) -> Response:
    host = host_of(request)

    def probe() -> dict[str, Any]:
        try:
            with host.store.read() as c:
                c.execute(text("SELECT 1"))
            return {"ok": True, "dialect": host.store.dialect}
        except Exception as exc:  # the answer *is* the error
            return {"ok": False, "dialect": host.store.dialect, "error": exc.__class__.__name__}

    database = await anyio.to_thread.run_sync(probe, limiter=_probe_threads(request))
    plugins = [r.as_json() for r in host.plugins.records.values() if not r.builtin]
    failed = [p["name"] for p in plugins if p["state"] == PluginState.FAILED.value]
    status = "ok" if database["ok"] and not failed else ("degraded" if database["ok"] else "unavailable")
    body = {"status": status, "database": database, "plugins": plugins, "failed_plugins": failed,
            "pipeline": host.pipeline.metrics}
    return JSONResponse(body, status_code=200 if database["ok"] else 503)


def _probe_threads(request: Request) -> anyio.CapacityLimiter:
    """``/healthz``'s own threads: the shared pool may be full of plugin web routes' calls, and a load
    balancer must still hear at once whether the host is up."""
    state = request.app.state
    if getattr(state, "health_threads", None) is None:
        state.health_threads = anyio.CapacityLimiter(4)
    limiter: anyio.CapacityLimiter = state.health_threads
    return limiter
