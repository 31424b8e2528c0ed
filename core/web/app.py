"""The ASGI app factory. The host app can mount the result under its own prefix:

    app.mount("/integrations-host", create_app(host))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Route

from core.host import Host
from core.web import api, tenant_api
from core.web.csrf import CsrfMiddleware
from core.web.errors import EXCEPTION_HANDLERS
from core.web.health import healthz
from core.web.identity import session_secret
from core.web.limits import BodySizeLimit, RejectNul
from core.web.metrics import metrics
from core.web.webhooks import receive_webhook

log = logging.getLogger("intellectra.web")


def plugin_routes(host: Host) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    contributions = host.plugins.broadcast("web_routes",
                                           kwargs_for=lambda record: {"ctx": host.context(record.name)})
    for name, contributed in contributions.items():
        if not contributed:
            continue
        for route in contributed:
            if not isinstance(route, BaseRoute):
                host.plugins.record_runtime_error(host.plugins.records[name], "web_routes",
                                                  TypeError(f"returned {type(route).__name__}, not a Starlette route"))
                continue
            routes.append(route)
    return routes


def extra_routes(host: Host) -> list[BaseRoute]:
    """Routes from optional core modules (the settings page, OpenAPI) when present."""
    routes: list[BaseRoute] = []
    with contextlib.suppress(ImportError):
        from core.web.pages import page_routes

        routes.extend(page_routes(host))
    with contextlib.suppress(ImportError):
        from core.web.openapi import openapi_routes

        routes.extend(openapi_routes(host))
    return routes


def create_app(host: Host, *, run_workers: bool = False, extra: Sequence[BaseRoute] = ()) -> Starlette:
    """Build the web app for ``host``. With ``run_workers`` the event pipeline's workers run in it."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task: asyncio.Task[Any] | None = None
        if run_workers:
            task = asyncio.create_task(host.pipeline.run_workers(stop), name="intellectra-workers")
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/webhooks/{name}", receive_webhook, methods=["POST"]),
        *api.ROUTES,
        *tenant_api.ROUTES,
        *extra_routes(host),
        *plugin_routes(host),
        *extra,
    ]
    middleware = [
        Middleware(RejectNul),
        Middleware(BodySizeLimit, max_bytes=host.settings.max_body_bytes),
        Middleware(SessionMiddleware, secret_key=session_secret(host), session_cookie="intellectra_session",
                   same_site="lax", https_only=host.settings.public_url.startswith("https://")),
        Middleware(CsrfMiddleware),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
                    lifespan=lifespan)
    app.state.host = host
    return app
