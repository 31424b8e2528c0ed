"""The site's pages: sign-in, the creator's courses, public sales pages, and the layout every page
(the integration host's Settings > Integrations included) is shown in."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from core import ActionRequired, IntellectraError, NotConnected
from core.web.app import EmbeddedPage
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Lifespan

from intellectra_host.hooks import SESSION_CREATOR
from intellectra_host.school import Creator, School

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
SESSION_COOKIE = "intellectra_site"
CSRF_KEY = "site_csrf"
FLASH_KEY = "site_flash"
SESSION_NAME = "signed_in_as"
SETTINGS_PAGE = "/settings/integrations"
CURRENCIES = (("usd", "US dollar (USD)"), ("eur", "Euro (EUR)"), ("gbp", "British pound (GBP)"))

Handler = Callable[[Request, Creator], Awaitable[Response]]


# ------------------------------------------------------------------------------------------------ plumbing
def school_of(request: Request) -> School:
    school = request.app.state.school
    assert isinstance(school, School)
    return school


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after its CSRF token matched the session's (the site's own forms)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    expected = request.session.get(CSRF_KEY)
    if not (isinstance(expected, str) and hmac.compare_digest(expected, form.pop("csrf_token", ""))):
        raise IntellectraError("This form has expired; reload the page and try again.", code="csrf_failed",
                               http_status=403)
    return form


def flash(request: Request, kind: str, message: str, *, link_url: str | None = None,
          link_label: str | None = None) -> None:
    request.session[FLASH_KEY] = {"kind": kind, "message": message, "link_url": link_url or "",
                                  "link_label": link_label or ""}


def signed_in_creator(request: Request) -> Creator | None:
    creator_id = request.session.get(SESSION_CREATOR)
    return school_of(request).creator(creator_id) if isinstance(creator_id, str) else None


def page_context(request: Request, creator: Creator | None) -> dict[str, Any]:
    prefix = request.app.state.integrations_prefix
    return {"creator": creator, "signed_in_as": request.session.get(SESSION_NAME) if creator else None,
            "csrf_token": csrf_token(request), "flash": request.session.pop(FLASH_KEY, None),
            "integrations_url": f"{prefix}{SETTINGS_PAGE}"}


def render(request: Request, name: str, creator: Creator | None, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {**page_context(request, creator), **(context or {})},
                                      status_code=status_code)


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        creator = await run_in_threadpool(signed_in_creator, request)
        if creator is None:
            return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)
        return await handler(request, creator)

    return endpoint


def safe_next(value: str | None) -> str:
    """Only a path on this site (never another site: no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/courses"
    return value


def layout_for(integrations_prefix: str) -> Callable[[Request, EmbeddedPage], str]:
    """The integration host's pages inside the site's own layout (its header, navigation, sign-out).

    Called by the integration host while it renders, on the event loop: it reads only the session (the
    site's: the integration host keeps its own elsewhere), no database.
    """

    def layout(request: Request, page: EmbeddedPage) -> str:
        return templates.get_template("integrations.html").render(
            page=page, signed_in_as=request.session.get(SESSION_NAME), csrf_token=csrf_token(request),
            integrations_url=f"{integrations_prefix}{SETTINGS_PAGE}")

    return layout


# ------------------------------------------------------------------------------------------------ sign-in
async def home(request: Request) -> Response:
    creator = await run_in_threadpool(signed_in_creator, request)
    return RedirectResponse("/courses" if creator else "/login", status_code=303)


async def show_login(request: Request) -> Response:
    return render(request, "login.html", None, {"next": safe_next(request.query_params.get("next")), "error": ""})


async def do_login(request: Request) -> Response:
    form = await checked_form(request)
    creator = await run_in_threadpool(school_of(request).sign_in, form.get("email", ""), form.get("password", ""))
    if creator is None:
        return render(request, "login.html", None, {"next": safe_next(form.get("next")),
                                                    "error": "That email and password do not match a creator here."},
                      status_code=400)
    request.session.clear()  # a fresh session at sign-in (no fixation)
    request.session[SESSION_CREATOR] = creator.id
    request.session[SESSION_NAME] = f"{creator.name} · {creator.site_name}"
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# ------------------------------------------------------------------------------------------------ courses
async def courses_page(request: Request, creator: Creator, *, error: Mapping[str, str] | None = None,
                       values: Mapping[str, str] | None = None, status_code: int = 200) -> Response:
    school = school_of(request)
    courses = await run_in_threadpool(school.courses, creator.tenant_id)
    return render(request, "courses.html", creator, {"courses": courses, "currencies": CURRENCIES,
                                                     "error": error, "values": values or {}},
                  status_code=status_code)


async def show_courses(request: Request, creator: Creator) -> Response:
    return await courses_page(request, creator)


async def create_course(request: Request, creator: Creator) -> Response:
    """A free course is the site's alone; a paid one is an offer on the creator's Stripe account first."""
    form = await checked_form(request)
    school = school_of(request)
    tenant = await run_in_threadpool(school.tenant_of, creator)
    try:
        if form.get("price", "").strip():
            course = await run_in_threadpool(
                lambda: school.add_paid_course(tenant, form.get("title", ""), price=form["price"].strip(),
                                               currency=form.get("currency", "usd"),
                                               site_url=request.app.state.site_url))
        else:
            course = await run_in_threadpool(school.add_free_course, tenant, form.get("title", ""))
    except IntellectraError as exc:
        return await courses_page(request, creator, error=course_error(request, exc), values=form, status_code=409
                                  if isinstance(exc, ActionRequired | NotConnected) else 400)
    flash(request, "success", f"“{course.title}” is ready ({course.price_label}).")
    return RedirectResponse(f"/courses/{course.id}", status_code=303)


def course_error(request: Request, exc: IntellectraError) -> dict[str, str]:
    """What went wrong, in the site's words where the site can help, with the link that fixes it."""
    if isinstance(exc, NotConnected):
        prefix = request.app.state.integrations_prefix
        return {"message": "Connect Stripe first: paid courses are sold through your own Stripe account.",
                "link_url": f"{prefix}{SETTINGS_PAGE}", "link_label": "Settings › Integrations"}
    if exc.action_url:
        return {"message": exc.message, "link_url": exc.action_url, "link_label": "Open your Stripe dashboard"}
    return {"message": exc.message, "link_url": "", "link_label": ""}


async def show_course(request: Request, creator: Creator) -> Response:
    school = school_of(request)
    course = await run_in_threadpool(lambda: school.course(request.path_params["id"], tenant_id=creator.tenant_id))
    if course is None:
        return render(request, "error.html", creator, {"title": "No such course",
                                                       "message": "This course does not exist on your site."},
                      status_code=404)
    students = await run_in_threadpool(school.students, creator.tenant_id, course.id)
    return render(request, "course.html", creator, {
        "course": course, "students": students, "sales_url": f"{request.app.state.site_url}/c/{course.id}"})


async def enroll_student(request: Request, creator: Creator) -> Response:
    form = await checked_form(request)
    course_id = request.path_params["id"]
    try:
        enrollment = await run_in_threadpool(
            lambda: school_of(request).enroll(creator.tenant_id, course_id, form.get("email", ""), source="creator"))
    except IntellectraError as exc:
        flash(request, "error", exc.message)
    else:
        flash(request, "success", f"{enrollment.email} is enrolled." if enrollment.created
              else f"{enrollment.email} was already enrolled.")
    return RedirectResponse(f"/courses/{course_id}", status_code=303)


# ------------------------------------------------------------------------------------------------ buyers
async def sales_page(request: Request) -> Response:
    """A course's public page: what it is, its price, and the Buy button (the Stripe checkout link)."""
    course = await run_in_threadpool(school_of(request).course, request.path_params["id"])
    if course is None:
        return render(request, "error.html", None, {"title": "No such course",
                                                    "message": "This course is not (or no longer) on sale."},
                      status_code=404)
    return render(request, "sales.html", None, {"course": course})


async def welcome(request: Request) -> Response:
    course = await run_in_threadpool(school_of(request).course, request.path_params["id"])
    return render(request, "welcome.html", None, {"course": course})


async def site_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IntellectraError)
    return render(request, "error.html", None, {"title": "That did not work", "message": exc.message},
                  status_code=exc.http_status)


# ------------------------------------------------------------------------------------------------ the app
def site_app(school: School, integrations: ASGIApp, *, site_url: str, session_secret: str,
             integrations_prefix: str, lifespan: Lifespan[Starlette]) -> Starlette:
    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/login", show_login, methods=["GET"]),
        Route("/login", do_login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/courses", signed_in(show_courses), methods=["GET"]),
        Route("/courses", signed_in(create_course), methods=["POST"]),
        Route("/courses/{id}", signed_in(show_course), methods=["GET"]),
        Route("/courses/{id}/students", signed_in(enroll_student), methods=["POST"]),
        Route("/c/{id}", sales_page, methods=["GET"]),
        Route("/c/{id}/welcome", welcome, methods=["GET"]),
        Mount("/static/site", app=StaticFiles(directory=HERE / "static"), name="site-static"),
        Mount(integrations_prefix, app=integrations),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=session_secret, session_cookie=SESSION_COOKIE,
                             same_site="lax", https_only=site_url.startswith("https://"))]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={IntellectraError: site_error})
    app.state.school = school
    app.state.site_url = site_url
    app.state.integrations_prefix = integrations_prefix
    return app
