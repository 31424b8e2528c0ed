"""Rendering the server-side pages: one Jinja2 environment, the packaged templates, safe headers.

Templates get ``csrf_token`` (put it in every form), ``url(path)`` (prefixes the path the host app
mounted us under) and ``static(name)``. Pages are never cached (they can show a key once) and may
not be framed. With a host app's ``layout`` (``core.web.embedding``) a page is rendered ``embedded``:
``base.html`` then leaves out its own chrome and the layout wraps the content.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from core.web.csrf_tokens import csrf_token
from core.web.embedding import EmbeddedPage, PageLayout

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/intellectra"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _when(value: datetime | None) -> str:
    """A timestamp as people read it, in UTC (the server does not know the creator's time zone)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _safe_url(value: str | None) -> str:
    """Only http(s) links from plugins and providers (never ``javascript:``); anything else becomes ``#``."""
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return "#"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["safe_url"] = _safe_url
    return env


templates = Jinja2Templates(env=_environment())


def root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(request: Request, name: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    return _respond(request, templates, name, context, status_code)


@functools.cache
def _plugin_templates(directory: Path) -> Jinja2Templates:
    """A plugin's own templates first, then the host's (so they can extend ``base.html``)."""
    env = _environment()
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(directory), jinja2.FileSystemLoader(TEMPLATES_DIR)])
    return Jinja2Templates(env=env)


def render_plugin_page(request: Request, directory: Path, name: str, context: Mapping[str, Any] | None = None, *,
                       status_code: int = 200) -> HTMLResponse:
    """A plugin's page (``directory``/``name``), rendered like the host's own: same helpers
    (``csrf_token``, ``url``, ``static``), same safe headers, ``base.html`` to extend, and the host
    app's layout around it when there is one."""
    return _respond(request, _plugin_templates(directory.resolve()), name, context, status_code)


def _respond(request: Request, source: Jinja2Templates, name: str, context: Mapping[str, Any] | None,
             status_code: int) -> HTMLResponse:
    root = root_path(request)
    layout: PageLayout | None = getattr(request.app.state, "layout", None)
    full = {
        "csrf_token": csrf_token(request),
        "url": lambda path: f"{root}{path}",
        "static": lambda file: f"{root}{STATIC_PREFIX}/{file}",
        "tenant": None,
        "embedded": layout is not None,
        "own_sign_in": getattr(request.app.state, "sign_in_url", None) is None,
        **(context or {}),
    }
    response: HTMLResponse
    if layout is None:
        response = source.TemplateResponse(request, name, full, status_code=status_code)
    else:
        page = embedded_page(source, request, name, full, status_code)
        response = HTMLResponse(layout(request, page), status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def embedded_page(source: Jinja2Templates, request: Request, name: str, context: Mapping[str, Any],
                  status_code: int) -> EmbeddedPage:
    """The page in parts for a host app's layout: its title block, what its head needs, its content."""
    variables = {"request": request, **context}
    template = source.env.get_template(name)
    title_block = template.blocks.get("title")
    title = "".join(title_block(template.new_context(variables))) if title_block else "Integrations"
    return EmbeddedPage(title=Markup(title).unescape(), status_code=status_code,
                        head=Markup(templates.env.get_template("_head.html").render(variables)),
                        body=Markup(template.render(variables)))


def render_error_page(request: Request, *, status_code: int, title: str, message: str) -> HTMLResponse:
    """A plain page for a refused or failed browser request, with a way back."""
    return render(request, "error.html", {"title": title, "message": message}, status_code=status_code)
