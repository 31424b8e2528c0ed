"""Tenant B can never see or act on tenant A, through any route of the page or the API.

Tenant A has a connection, an API key, a subscription, a dead delivery, events and a connect in
progress. Tenant B then calls every route of the app, aiming at A's objects wherever a route
takes an id. Every response must be free of A's data (except ids B itself sent), and afterwards
A's objects must be exactly as they were. The table must name every route the app serves, so a
new route cannot be added without saying how it keeps tenants apart.
"""

from __future__ import annotations

import html
import re
from typing import Any

import attrs
import httpx
import pytest
from starlette.routing import Route
from web_support import Site

from core.store.tables import deliveries
from core.web.app import create_app


@attrs.frozen
class Case:
    """How B calls one route. ``{name}``, ``{id}``, ``{key_id}`` and ``{state}`` are filled with A's;
    ``{form}`` with one of demopay's card forms (whose result would name A's account)."""

    kind: str  # "api" (bearer and cookie+CSRF), "page" (signed-in browser), "public" (no tenant data)
    path: str = ""
    name: str = "demopay"
    id: str = ""  # which of A's ids fills {id}: "delivery" or "key"
    body: dict[str, str] = attrs.field(factory=dict)
    params: dict[str, str] = attrs.field(factory=dict)
    expect: frozenset[int] = frozenset({200})


ROUTES: dict[tuple[str, str], Case] = {
    # the JSON API
    ("GET", "/api/integrations"): Case("api"),
    ("POST", "/api/integrations/{name}/connect"): Case("api", body={"option": "existing", "account": "ada"},
                                                       expect=frozenset({409})),
    ("POST", "/api/integrations/{name}/disconnect"): Case("api"),
    ("GET", "/api/integrations/{name}/status"): Case("api", params={"refresh": "1"}, expect=frozenset({409})),
    ("GET", "/api/events"): Case("api"),
    ("GET", "/api/deliveries"): Case("api"),
    ("POST", "/api/deliveries/{id}/retry"): Case("api", id="delivery", expect=frozenset({404})),
    ("GET", "/api/api-keys"): Case("api"),
    ("POST", "/api/api-keys"): Case("api", body={"integration": "hooks", "label": "B's key"}, expect=frozenset({201})),
    ("DELETE", "/api/api-keys/{id}"): Case("api", id="key", expect=frozenset({404})),
    ("GET", "/api/subscriptions"): Case("api"),
    ("POST", "/api/integrations/{name}/forms/{form}"): Case("api", body={"amount": "5", "currency": "usd"},
                                                          expect=frozenset({409})),
    # the page and its forms (a redirect back with a flash; the page B then sees is checked too)
    ("GET", "/settings/integrations"): Case("page"),
    ("POST", "/settings/integrations/{name}/connect"): Case("page", body={"option": "existing", "account": "ada"},
                                                            expect=frozenset({303})),
    ("GET", "/settings/integrations/{name}/disconnect"): Case("page"),
    ("POST", "/settings/integrations/{name}/disconnect"): Case("page", expect=frozenset({303})),
    ("POST", "/settings/integrations/{name}/refresh"): Case("page", expect=frozenset({303})),
    ("POST", "/settings/integrations/{name}/api-keys"): Case("page", name="hooks", body={"label": "B's key"},
                                                             expect=frozenset({201})),
    ("POST", "/settings/integrations/{name}/api-keys/{key_id}/revoke"): Case("page", name="hooks",
                                                                             expect=frozenset({303})),
    ("POST", "/settings/integrations/deliveries/{id}/retry"): Case("page", id="delivery", expect=frozenset({303})),
    ("POST", "/settings/integrations/{name}/forms/{form}"): Case("page", body={"amount": "5", "currency": "usd"},
                                                                 expect=frozenset({303})),
    # A's connect in progress, finished by B: refused as another site's link
    ("GET", "/integrations/{name}/callback"): Case("page", params={"state": "{state}", "code": "granted"},
                                                   expect=frozenset({303})),
    # sign-in: B cannot become A (no demo sign-in outside `serve --sandbox`)
    ("GET", "/login"): Case("public"),
    ("POST", "/login"): Case("page", body={"tenant_id": "{tenant}"}, expect=frozenset({400})),
    ("POST", "/logout"): Case("page", expect=frozenset({303})),
    ("GET", "/"): Case("public", expect=frozenset({303})),
    # no tenant data at all
    ("GET", "/healthz"): Case("public"),
    ("GET", "/healthz/details"): Case("public", expect=frozenset({404})),  # operators only; off without a token
    ("GET", "/openapi.json"): Case("public"),
    ("GET", "/metrics"): Case("public", expect=frozenset({404})),  # no token configured; labels name no tenant
    ("POST", "/webhooks/{name}"): Case("public", body={"id": "evt_1"}, expect=frozenset({400, 404, 501})),
}


def app_routes(site: Site) -> set[tuple[str, str]]:
    app = create_app(site.host)
    return {(m, r.path) for r in app.routes if isinstance(r, Route) for m in (r.methods or {"GET"}) if m != "HEAD"}


@attrs.define
class World:
    site: Site
    a: dict[str, str]
    b_browser: Any
    b_api: httpx.Client

    def a_snapshot(self) -> tuple[Any, ...]:
        host, tenant_id = self.site.host, self.a["tenant"]
        connection = host.connections.find(tenant_id, "demopay")
        keys = [(k.id, k.revoked_at) for k in host.api_keys.list(tenant_id, include_revoked=True)]
        delivery = host.pipeline.get_delivery(self.a["delivery"])
        return (connection.state, connection.external_id, connection.reason, keys, delivery.status,
                delivery.attempts, [s.id for s in host.subscriptions.list(tenant_id)])


@pytest.fixture
def world(make_site) -> World:
    site = make_site()
    host, tenant = site.host, site.tenant("a")
    host.connect(tenant, "demopay", {"option": "existing", "account": "ada", "api_secret": "sk_a_secret_value_1"})
    key, _ = host.api_keys.create(tenant.id, "hooks", label="Ada's Zaps")
    sub, _ = host.subscriptions.subscribe(tenant.id, "hooks", event_type="member.created",
                                          target_url="http://127.0.0.1:9/ada-private-hook")
    host.emit(tenant.id, "member.created", {"member_id": "mem_ada", "email": "ada@example.com"})
    (delivery,) = host.pipeline.list_deliveries(tenant_id=tenant.id)
    with host.store.begin() as c:
        c.execute(deliveries.update().where(deliveries.c.id == delivery.id).values(status="dead", attempts=8))
    pending = host.connect(tenant, "demopay", {"option": "new", "account": "ada"})
    state = re.search(r"state=([^&]+)", pending.redirect_url).group(1)
    connection = host.connections.find(tenant.id, "demopay")
    a = {"tenant": tenant.id, "tenant_name": tenant.name, "key": key.id, "key_prefix": key.prefix,
         "delivery": delivery.id, "subscription": sub.id, "connection": connection.id,
         "external_id": connection.external_id, "state": state, "member": "mem_ada", "hook": "ada-private-hook",
         "secret": "sk_a_secret_value_1", "token": site.tenants["a"][1]}
    return World(site=site, a=a, b_browser=site.browser("b"), b_api=site.api("b"))


def fill(case: Case, text: str, a: dict[str, str]) -> str:
    return (text.replace("{name}", case.name).replace("{form}", "payment_link").replace("{id}", a.get(case.id, ""))
            .replace("{key_id}", a["key"]).replace("{state}", a["state"]).replace("{tenant}", a["tenant"]))


def leaked(text: str, a: dict[str, str], sent: str) -> list[str]:
    """A's identifiers and secrets in ``text``, except those B itself sent in this request."""
    text = html.unescape(text)
    return [label for label, value in a.items() if value and value in text and value not in sent]


def test_the_table_names_every_route_of_the_app(world: World):
    assert app_routes(world.site) == set(ROUTES)


def call(world: World, method: str, path: str, case: Case, identity: str) -> tuple[httpx.Response, str]:
    url = fill(case, path, world.a)
    params = {k: fill(case, v, world.a) for k, v in case.params.items()}
    body = {k: fill(case, v, world.a) for k, v in case.body.items()}
    sent = f"{url} {params} {body}"
    if case.kind == "public":
        client = world.site.anonymous().client
        return client.request(method, url, params=params, json=body or None), sent
    if identity == "bearer":
        return world.b_api.request(method, url, params=params, json=body or None), sent
    browser = world.b_browser
    if case.kind == "api":
        headers = {"X-CSRF-Token": browser.csrf}
        return browser.client.request(method, url, params=params, json=body or None, headers=headers), sent
    if method == "GET":
        return browser.get(url, params=params), sent
    return browser.post(url, body), sent


CASES = [(m, p, identity) for (m, p), case in ROUTES.items()
         for identity in (("bearer", "session") if case.kind == "api" else ("session",))]


@pytest.mark.parametrize(("method", "path", "identity"), CASES, ids=[f"{m} {p} {i}" for m, p, i in CASES])
def test_tenant_b_cannot_see_or_touch_tenant_a(world: World, method: str, path: str, identity: str):
    case = ROUTES[(method, path)]
    before = world.a_snapshot()
    response, sent = call(world, method, path, case, identity)
    assert response.status_code in case.expect, response.text
    assert leaked(response.text, world.a, sent) == []
    if case.kind == "page" and path != "/logout":
        page = world.b_browser.get("/settings/integrations")
        assert page.status_code == 200
        assert leaked(page.text, world.a, sent) == [], "the page B sees afterwards (with its flash)"
    assert world.a_snapshot() == before, "A's objects are untouched"


def test_the_leak_check_would_see_tenant_a_data(world: World):
    """The check above is not vacuous: A's own page and API do show what B must never see."""
    a_page = world.site.browser("a").page()
    assert {"tenant_name", "key_prefix", "delivery", "member"} <= set(leaked(a_page, world.a, ""))
    a_api = world.site.api("a")
    assert "key" in leaked(a_api.get("/api/api-keys").text, world.a, "")
    assert "external_id" in leaked(a_api.get("/api/integrations").text, world.a, "")
