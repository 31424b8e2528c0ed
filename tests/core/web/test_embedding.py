"""The web app mounted inside a host app: the host app's session, sign-in page and layout.

The host app here is a small Starlette app with its own ``SessionMiddleware`` (its cookie, its
secret), a sign-in route, and ``resolve_tenant`` answered from *its* session. It mounts
``create_app(host, layout=..., sign_in_url="/signin")`` under ``/integrations`` and is served over
loopback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import escape

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from web_support import DemoPay

from core import Tenant, hookimpl
from core.host import Host
from core.web.app import EmbeddedPage, create_app

PAGE = "/integrations/settings/integrations"


class HostAppIdentity:
    """The host app's ``resolve_tenant``: its own session names the user, the user owns a tenant."""

    def __init__(self, tenants: dict[str, Tenant]) -> None:
        self.tenants = tenants

    @hookimpl
    def resolve_tenant(self, request: Request) -> Tenant | None:
        user = request.session.get("user") if "session" in request.scope else None
        return self.tenants.get(user) if isinstance(user, str) else None


def host_app_layout(request: Request, page: EmbeddedPage) -> str:
    who = escape(str(request.session.get("user")))
    return (f"<!doctype html><html><head><title>{escape(page.title)} · Host App</title>{page.head}</head>"
            f"<body><nav id=\"host-app-nav\">Host App, signed in as {who}</nav>{page.body}</body></html>")


def host_app(host: Host) -> Starlette:
    async def sign_in(request: Request) -> Response:
        request.session["user"] = request.query_params["user"]
        request.session["cart"] = ["a watercolour brush"]
        return PlainTextResponse("signed in")

    async def session(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    integrations = create_app(host, layout=host_app_layout, sign_in_url="/signin")
    return Starlette(routes=[Route("/signin", sign_in), Route("/session", session),
                             Mount("/integrations", app=integrations)],
                     middleware=[Middleware(SessionMiddleware, secret_key="the host app's own secret",
                                            session_cookie="host_app")])


@pytest.fixture
def embedded(make_host: Callable[..., Host], live_server: Callable[..., str]) -> Iterator[httpx.Client]:
    host = make_host(plugins={"demopay": DemoPay()})
    tenant, _ = host.tenants.create("Ada's Studio")
    host.register_host_app(HostAppIdentity({"ada": tenant}))
    url = live_server(host_app(host))
    with httpx.Client(base_url=url, timeout=15, headers={"Origin": url}) as client:  # a browser's form posts
        yield client


def sign_in(client: httpx.Client, user: str = "ada") -> None:
    assert client.get("/signin", params={"user": user}).status_code == 200


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match, "the page's head carries its CSRF token"
    return match[1]


def test_the_settings_page_is_shown_for_the_host_apps_signed_in_user_inside_the_host_apps_layout(embedded):
    sign_in(embedded)

    page = embedded.get(PAGE)

    assert page.status_code == 200
    assert page.text.startswith("<!doctype html><html><head><title>Settings \u203a Integrations · Host App</title>")
    assert page.text.count("<html") == 1 and page.text.count("<body") == 1
    assert '<nav id="host-app-nav">Host App, signed in as ada</nav>' in page.text
    assert "Ada&#39;s Studio" in page.text
    assert 'href="/integrations/static/intellectra/settings.css"' in page.text
    assert "Sign out" not in page.text, "signing out is the host app's, in its own layout"
    assert page.headers["x-frame-options"] == "DENY"


def test_the_host_apps_session_is_untouched_by_pages_and_form_posts_under_the_mount(embedded):
    sign_in(embedded)
    before = embedded.get("/session").json()

    page = embedded.get(PAGE)
    posted = embedded.post(f"{PAGE}/demopay/connect", data={"option": "existing", "account": "ada",
                                                            "csrf_token": csrf_of(page)})
    after = embedded.get("/session").json()

    assert posted.status_code == 303
    assert before == after == {"user": "ada", "cart": ["a watercolour brush"]}


def test_a_form_post_under_the_prefix_is_checked_and_answered_with_a_flash_in_the_layout(embedded):
    sign_in(embedded)
    token = csrf_of(embedded.get(PAGE))

    refused = embedded.post(f"{PAGE}/demopay/connect", data={"option": "existing", "account": "ada"},
                            headers={"accept": "text/html"})
    posted = embedded.post(f"{PAGE}/demopay/connect", data={"option": "existing", "account": "ada",
                                                            "csrf_token": token})
    back = embedded.get(posted.headers["location"])

    assert refused.status_code == 403
    assert "This form has expired" in refused.text and 'id="host-app-nav"' in refused.text
    assert posted.headers["location"] == f"{PAGE}#flash"
    assert "Demo Pay is connected." in back.text


def test_the_integration_hosts_own_session_cookie_is_scoped_to_the_mount(embedded):
    sign_in(embedded)

    page = embedded.get(PAGE)

    cookies = page.headers.get_list("set-cookie")
    assert [c for c in cookies if c.startswith("intellectra_session=")], cookies
    assert all("path=/integrations;" in c for c in cookies if c.startswith("intellectra_session="))
    assert not [c for c in cookies if c.startswith("host_app=")], "the host app's cookie is the host app's to set"


def test_a_browser_without_a_tenant_is_sent_to_the_host_apps_sign_in_page_and_ours_does_not_exist(embedded):
    page = embedded.get(PAGE)
    ours = embedded.get("/integrations/login")

    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=%2Fintegrations%2Fsettings%2Fintegrations"
    assert ours.status_code == 404


def test_a_user_the_host_app_does_not_know_gets_no_tenant(embedded):
    sign_in(embedded, user="mallory")

    assert embedded.get(PAGE).status_code == 303
    assert embedded.get("/integrations/api/integrations").status_code == 401


@pytest.mark.parametrize("origin", ["https://evil.example", None])
def test_a_cross_site_call_riding_on_the_host_apps_own_cookie_is_refused(embedded, origin):
    sign_in(embedded)  # only the host app's cookie: its resolve_tenant would answer for ada
    headers = {"Origin": origin} if origin else {}

    forged = embedded.post("/integrations/api/api-keys", json={"integration": "demopay", "label": "forged"},
                           headers=headers)
    keys = embedded.get("/integrations/api/api-keys")

    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "csrf_failed"
    assert keys.status_code == 200 and keys.json()["api_keys"] == []
