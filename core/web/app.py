"""The ASGI app factory. The host app mounts the result under its own prefix, in its own layout:

    Mount("/integrations", create_app(host, layout=my_layout, sign_in_url="/login"))

(docs/host-app.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute, Route

from core.host import Host
from core.web import api, tenant_api
from core.web.csrf import CsrfMiddleware
from core.web.embedding import EmbeddedPage, PageLayout
from core.web.errors import EXCEPTION_HANDLERS
from core.web.health import healthz, healthz_details
from core.web.identity import session_secret
from core.web.limits import BodySizeLimit, RejectNul
from core.web.metrics import metrics
from core.web.session import OwnSessionMiddleware
from core.web.templating import render_plugin_page
from core.web.webhooks import WebhookFastPath, receive_webhook

log = logging.getLogger("intellectra.web")

__all__ = ["EmbeddedPage", "PageLayout", "create_app"]


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


def extra_routes(host: Host, *, own_sign_in: bool = True) -> list[BaseRoute]:
    """Routes from optional core modules (the settings page, OpenAPI) when present."""
    routes: list[BaseRoute] = []
    with contextlib.suppress(ImportError):
        from core.web.pages import page_routes

        routes.extend(page_routes(host, own_sign_in=own_sign_in))
    with contextlib.suppress(ImportError):
        from core.web.openapi import openapi_routes

        routes.extend(openapi_routes(host))
    return routes


def create_app(host: Host, *, run_workers: bool = False, extra: Sequence[BaseRoute] = (),
               layout: PageLayout | None = None, sign_in_url: str | None = None) -> Starlette:
    """Build the web app for ``host``. With ``run_workers`` the event pipeline's workers run in it
    (only when it is the outermost app: a mounted app's lifespan never runs; see ``Host.run_workers``).

    A host app that mounts it passes ``layout``, which puts each page (an :class:`EmbeddedPage`) into
    the host app's own layout, and ``sign_in_url``, where a browser without a tenant is sent (with
    ``?next=`` the page it asked for) instead of this app's own sign-in page, which then does not exist.
    """

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
        Route("/healthz/details", healthz_details, methods=["GET"]),
        Route("/webhooks/{name}", receive_webhook, methods=["POST"]),
        *api.ROUTES,
        *tenant_api.ROUTES,
        *extra_routes(host, own_sign_in=sign_in_url is None),
        *plugin_routes(host),
        *extra,
    ]
    public_url = host.settings.require_public_url()
    middleware = [
        # A Host header we do not serve is refused before anything runs (it never reaches a URL anyway).
        Middleware(TrustedHostMiddleware, allowed_hosts=host.settings.trusted_hosts(), www_redirect=False),
        Middleware(RejectNul),
        Middleware(BodySizeLimit, max_bytes=host.settings.max_body_bytes),
        # Providers' webhooks leave here for intake: what follows is for browsers and the other routes.
        Middleware(WebhookFastPath, host=host),
        Middleware(OwnSessionMiddleware, secret_key=session_secret(host), https_only=public_url.startswith("https://")),
        Middleware(CsrfMiddleware, public_url=public_url),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
                    lifespan=lifespan)
    app.state.host = host
    app.state.layout = layout
    app.state.sign_in_url = sign_in_url
    app.state.render_plugin_page = render_plugin_page  # for plugins' ctx.render_page
    return app
