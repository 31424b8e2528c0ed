"""The standalone server's page sign-in: ``/login`` and ``/logout``.

In production a creator signs in by pasting their site's token (``tenants create`` prints it); under
``serve --sandbox`` (``Settings.demo_sign_in``, which no environment variable sets) the page also lists
the demo tenants to click. Either way the
session cookie then carries ``tenant_id`` (what ``core.builtins.StandaloneIdentity`` reads). A host
app with its own identity (the ``resolve_tenant`` hook) never sends anyone here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core.builtins import SESSION_TENANT_KEY
from core.models import Tenant
from core.web.csrf_tokens import rotate
from core.web.identity import host_of
from core.web.session import own_session
from core.web.templating import render, root_path

SETTINGS_PATH = "/settings/integrations"
DEMO_TENANT_LIMIT = 20


def safe_next(value: str | None) -> str:
    """Only a local path may be a post-sign-in destination (no open redirect to another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return SETTINGS_PATH
    return value


def login_url(request: Request) -> str:
    """Where a browser without a tenant signs in: the host app's sign-in page (``create_app(sign_in_url=...)``,
    told the whole path to come back to), else ours (told the path inside this app)."""
    host_app_sign_in: str | None = getattr(request.app.state, "sign_in_url", None)
    if host_app_sign_in is not None:
        separator = "&" if "?" in host_app_sign_in else "?"
        return f"{host_app_sign_in}{separator}{urlencode({'next': request.url.path})}"
    return f"{root_path(request)}/login?{urlencode({'next': request.url.path.removeprefix(root_path(request))})}"


async def login_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    host = host_of(request)
    demo: list[Tenant] = []
    if host.settings.demo_sign_in:
        demo = (await run_in_threadpool(host.tenants.list))[:DEMO_TENANT_LIMIT]
    return render(request, "login.html", {
        "demo_sign_in": host.settings.demo_sign_in, "demo_tenants": demo, "error": error,
        "next": safe_next(request.query_params.get("next")),
    }, status_code=status_code)


async def show_login(request: Request) -> Response:
    return await login_page(request)


async def do_login(request: Request) -> Response:
    host = host_of(request)
    form = await request.form()
    tenant: Tenant | None = None
    demo_id = str(form.get("tenant_id") or "")
    token = str(form.get("token") or "").strip()
    if demo_id:
        if not host.settings.demo_sign_in:
            return await login_page(request, error="Demo sign-in is only available under `serve --sandbox`. "
                                                   "Paste your site's token instead.",
                                    status_code=400)
        tenant = await run_in_threadpool(host.tenants.find, demo_id)
    elif token:
        tenant = await run_in_threadpool(host.tenants.by_token, token)
    else:
        return await login_page(request, error="Paste your site's token to sign in.", status_code=400)
    if tenant is None:
        return await login_page(request, error="That token (or demo site) is not known here. Check you copied the "
                                               "whole token printed by `intellectra-integrations tenants create`.",
                                status_code=400)
    session = own_session(request)
    session.clear()  # a fresh session: nothing from before sign-in carries over (session fixation)
    session[SESSION_TENANT_KEY] = tenant.id
    rotate(request)
    destination = safe_next(str(form.get("next") or ""))
    return RedirectResponse(f"{root_path(request)}{destination}", status_code=303)


async def logout(request: Request) -> Response:
    own_session(request).clear()
    rotate(request)
    return RedirectResponse(f"{root_path(request)}/login", status_code=303)


def signin_routes() -> list[BaseRoute]:
    return [
        Route("/login", show_login, methods=["GET"]),
        Route("/login", do_login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
