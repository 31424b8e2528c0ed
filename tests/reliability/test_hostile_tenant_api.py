"""Hostile calls to the tenant API, the settings page and the Zapier API.

* **Cross-tenant, on every route**: tenant A aims at tenant B — B's ids in the path, ``tenant_id=B``
  smuggled into the query, body or headers. The answer never mentions B, and nothing of B changes.
  A test fails when a route is added without a case here.
* **Missing and wrong API keys** on every Zapier route: 401, nothing changed (not even ``last_used_at``).
* **CSRF-less form posts**: every state-changing route, with the session cookie and no (or a wrong)
  token, is refused with 403 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from harness import snapshot
from harness.arena import Arena, Tenant
from harness.browser import sign_in
from starlette.routing import Route

from core.web.app import create_app
from plugins.stripe_connect.info import CREATE_OFFER

SMUGGLED = "tenant_id"


def victim_marks(arena: Arena) -> dict[str, str]:
    b = arena.b
    return {"B's tenant id": b.id, "B's account": b.account, "B's delivery": b.delivery_id, "B's event": b.event_id,
            "B's hook": b.hook_id, "B's key id": b.api_key_id, "B's token": b.token, "B's key": b.api_key}


def rows_about_b_changed(arena: Arena, before: snapshot.Snapshot, after: snapshot.Snapshot) -> list[str]:
    marks = victim_marks(arena).values()
    changed = []
    for table in before:
        for row in set(before[table]) ^ set(after[table]):
            if any(mark in value for value in row for mark in marks):
                changed.append(f"{table}: {row[:3]}")
    return changed


@pytest.fixture(scope="module")
def browser_a(arena: Arena) -> Iterator[tuple[httpx.Client, str]]:
    client, token = sign_in(arena.url, arena.a.token)
    yield client, token
    client.close()


@pytest.fixture(scope="module")
def stranger(arena: Arena) -> Tenant:
    """A tenant with nothing of its own, for routes that act on the caller's own connection."""
    tenant, token = arena.host.tenants.create("Stranger")
    return Tenant(id=tenant.id, token=token, account="")


Call = Callable[[Arena, Tenant, Any], httpx.Response]


def bearer(method: str, path: str, **kwargs: Any) -> Call:
    def call(arena: Arena, caller: Tenant, browser: Any) -> httpx.Response:
        b = arena.b
        url = arena.url + path.format(b=b)
        return arena.http.request(method, url, params={SMUGGLED: b.id},
                                  headers={**caller.bearer, "X-Tenant-Id": b.id}, **kwargs)
    return call


def zapier(method: str, path: str, **kwargs: Any) -> Call:
    def call(arena: Arena, caller: Tenant, browser: Any) -> httpx.Response:
        b = arena.b
        return arena.http.request(method, arena.url + path.format(b=b), params={SMUGGLED: b.id},
                                  headers={"X-API-Key": arena.a.api_key, "X-Tenant-Id": b.id}, **kwargs)
    return call


def buyer(method: str, path: str) -> Call:
    """A buyer (no credentials) asking for JSON, aiming at B's site."""
    def call(arena: Arena, caller: Tenant, browser: Any) -> httpx.Response:
        b = arena.b
        return arena.http.request(method, arena.url + path.format(b=b), params={SMUGGLED: b.id},
                                  headers={"Accept": "application/json", "X-Tenant-Id": b.id})
    return call


def page(method: str, path: str) -> Call:
    def call(arena: Arena, caller: Tenant, browser: tuple[httpx.Client, str]) -> httpx.Response:
        client, token = browser
        b = arena.b
        if method == "GET":
            return client.get(path.format(b=b), params={SMUGGLED: b.id})
        return client.post(path.format(b=b), data={"csrf_token": token, SMUGGLED: b.id, "label": "x"})
    return call


def smuggle_json(**extra: Any) -> Callable[[Arena], dict[str, Any]]:
    return lambda arena: {SMUGGLED: arena.b.id, **extra}


# (method, route path) → how tenant A (or, for its own connection, a stranger) aims at B; whether the
# call acts on the caller's own objects ("self": it may change the caller's rows, never B's).
CROSS_TENANT: dict[tuple[str, str], tuple[Call, str]] = {
    ("GET", "/api/integrations"): (bearer("GET", "/api/integrations"), "read"),
    ("POST", "/api/integrations/{name}/connect"): (bearer("POST", "/api/integrations/stripe_connect/connect",
                                                          json={"option": "oauth", SMUGGLED: "B"}), "self"),
    ("POST", "/api/integrations/{name}/disconnect"): (bearer("POST", "/api/integrations/stripe_connect/disconnect"),
                                                       "self"),
    ("GET", "/api/integrations/{name}/status"): (bearer("GET", "/api/integrations/stripe_connect/status"), "read"),
    ("GET", "/api/events"): (bearer("GET", "/api/events"), "read"),
    ("GET", "/api/deliveries"): (bearer("GET", "/api/deliveries"), "read"),
    ("POST", "/api/deliveries/{id}/retry"): (bearer("POST", "/api/deliveries/{b.delivery_id}/retry"), "refused"),
    ("GET", "/api/api-keys"): (bearer("GET", "/api/api-keys"), "read"),
    ("POST", "/api/api-keys"): (bearer("POST", "/api/api-keys", json={"integration": "zapier", SMUGGLED: "B"}),
                                "self"),
    ("DELETE", "/api/api-keys/{id}"): (bearer("DELETE", "/api/api-keys/{b.api_key_id}"), "refused"),
    ("GET", "/api/subscriptions"): (bearer("GET", "/api/subscriptions"), "read"),
    ("POST", "/api/stripe_connect/offers"): (bearer("POST", "/api/stripe_connect/offers", json={
        "title": "Stolen", "kind": "course", "amount": 100, "success_url": "https://a.example/ok", SMUGGLED: "B"}),
        "self"),
    ("GET", "/api/stripe_connect/offers"): (bearer("GET", "/api/stripe_connect/offers"), "read"),
    ("POST", "/api/stripe_connect/offers/{offer_id}/archive"): (
        bearer("POST", "/api/stripe_connect/offers/off_of_somebody_else/archive"), "refused"),
    ("GET", "/api/stripe_connect/checkout/{tenant_id}/{offer_id}"): (  # old links: a redirect to the buyer page
        bearer("GET", "/api/stripe_connect/checkout/{b.id}/off_of_somebody_else"), "read"),
    ("GET", "/integrations/stripe_connect/buy/{tenant_id}/{offer_id}"): (
        buyer("GET", "/integrations/stripe_connect/buy/{b.id}/off_of_somebody_else"), "refused"),
    ("POST", "/integrations/stripe_connect/buy/{tenant_id}/{offer_id}"): (
        buyer("POST", "/integrations/stripe_connect/buy/{b.id}/off_of_somebody_else"), "refused"),
    ("GET", "/integrations/stripe_connect/finish-setup"): (
        page("GET", "/integrations/stripe_connect/finish-setup"), "self"),
    ("POST", "/integrations/stripe_connect/finish-setup"): (
        page("POST", "/integrations/stripe_connect/finish-setup"), "self"),
    ("GET", "/api/zapier/keys"): (bearer("GET", "/api/zapier/keys"), "read"),
    ("POST", "/api/zapier/keys"): (bearer("POST", "/api/zapier/keys", json={"label": "mine"}), "self"),
    ("DELETE", "/api/zapier/keys/{key_id}"): (bearer("DELETE", "/api/zapier/keys/{b.api_key_id}"), "refused"),
    ("GET", "/api/zapier/me"): (zapier("GET", "/api/zapier/me"), "read"),
    ("GET", "/api/zapier/hooks"): (zapier("GET", "/api/zapier/hooks"), "read"),
    ("POST", "/api/zapier/hooks"): (zapier("POST", "/api/zapier/hooks", json={
        "target_url": "https://hooks.example.test/mine", "event": "purchase.refunded"}), "self"),
    ("DELETE", "/api/zapier/hooks/{hook_id}"): (zapier("DELETE", "/api/zapier/hooks/{b.hook_id}"), "inert"),
    ("GET", "/api/zapier/triggers"): (zapier("GET", "/api/zapier/triggers"), "read"),
    ("GET", "/api/zapier/triggers/{event}/sample"): (zapier("GET", "/api/zapier/triggers/purchase.completed/sample"),
                                                      "read"),
    ("POST", "/api/zapier/actions/{action}"): (zapier("POST", "/api/zapier/actions/enroll_member", json={
        "email": "x@example.com", SMUGGLED: "B"}), "self"),
    ("POST", "/api/integrations/{name}/forms/{form}"): (bearer(
        "POST", f"/api/integrations/stripe_connect/forms/{CREATE_OFFER}",
        json={"title": "Stolen", "kind": "course", "amount": "100", SMUGGLED: "B"}), "self"),
    ("GET", "/settings/integrations"): (page("GET", "/settings/integrations"), "read"),
    ("POST", "/settings/integrations/{name}/forms/{form}"): (
        page("POST", f"/settings/integrations/stripe_connect/forms/{CREATE_OFFER}"), "self"),
    ("POST", "/settings/integrations/deliveries/{id}/retry"): (
        page("POST", "/settings/integrations/deliveries/{b.delivery_id}/retry"), "refused-page"),
    ("POST", "/settings/integrations/{name}/connect"): (page("POST", "/settings/integrations/stripe_connect/connect"),
                                                         "self"),
    ("GET", "/settings/integrations/{name}/disconnect"): (
        page("GET", "/settings/integrations/stripe_connect/disconnect"), "read"),
    ("POST", "/settings/integrations/{name}/disconnect"): (
        page("POST", "/settings/integrations/zapier/disconnect"), "self"),
    ("POST", "/settings/integrations/{name}/refresh"): (page("POST", "/settings/integrations/stripe_connect/refresh"),
                                                         "self"),
    ("POST", "/settings/integrations/{name}/api-keys"): (page("POST", "/settings/integrations/zapier/api-keys"),
                                                          "self"),
    ("POST", "/settings/integrations/{name}/api-keys/{key_id}/revoke"): (
        page("POST", "/settings/integrations/zapier/api-keys/{b.api_key_id}/revoke"), "refused-page"),
}
"""Routes that act for nobody in particular, so there is no other tenant to reach: the health check, its
operator details and the metrics (the operator's token; labels name integrations, never tenants), the
OpenAPI document, sign-in (the token *is* the identity), the callback (tested in test_hostile_connect.py),
the webhook endpoint (signed by the provider; test_hostile_webhooks.py) and the static files."""
NOT_TENANT_SCOPED = {("GET", "/healthz"), ("GET", "/healthz/details"), ("GET", "/metrics"), ("GET", "/openapi.json"),
                     ("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
                     ("GET", "/integrations/{name}/callback"), ("POST", "/webhooks/{name}")}


def app_routes(arena: Arena) -> set[tuple[str, str]]:
    found = set()
    for route in create_app(arena.host).routes:
        if isinstance(route, Route):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found


def test_every_route_has_a_cross_tenant_case(arena: Arena) -> None:
    uncovered = app_routes(arena) - set(CROSS_TENANT) - NOT_TENANT_SCOPED
    assert not uncovered, f"add a cross-tenant case for {sorted(uncovered)}"


@pytest.mark.parametrize("route", list(CROSS_TENANT), ids=lambda r: f"{r[0]} {r[1]}")
def test_no_route_reaches_another_tenant(arena: Arena, browser_a: tuple[httpx.Client, str], stranger: Tenant,
                                         route: tuple[str, str]) -> None:
    call, kind = CROSS_TENANT[route]
    caller = stranger if kind == "self" else arena.a
    before = snapshot.take(arena.host.store.engine)

    answer = call(arena, caller, browser_a)

    after = snapshot.take(arena.host.store.engine)
    assert answer.status_code < 500, answer.text[:500]
    asked = f"{answer.request.url} {answer.request.content.decode(errors='replace')}"
    leaked = [what for what, mark in victim_marks(arena).items() if mark in answer.text and mark not in asked]
    assert not leaked, f"the answer mentions {leaked}"
    assert rows_about_b_changed(arena, before, after) == []
    if kind in ("read", "refused", "inert", "refused-page"):
        assert snapshot.changes(before, after) == {}
    if kind == "refused":
        assert answer.status_code == 404, answer.text[:300]
        assert answer.json()["error"]["code"]
    if kind == "refused-page":
        assert answer.status_code == 303
        assert "That did not work" in browser_a[0].get(answer.headers["location"]).text


# -- API keys ------------------------------------------------------------------------------------------------
ZAPIER_ROUTES = [("GET", "/api/zapier/me", None), ("GET", "/api/zapier/hooks", None),
                 ("POST", "/api/zapier/hooks", {"target_url": "https://hooks.example.test/k",
                                                "event": "member.created"}),
                 ("DELETE", "/api/zapier/hooks/{a.hook_id}", None),
                 ("GET", "/api/zapier/triggers/purchase.completed/sample", None),
                 ("POST", "/api/zapier/actions/enroll_member", {"email": "x@example.com"})]


def revoked_key(arena: Arena) -> str:
    key, plaintext = arena.host.api_keys.create(arena.a.id, "zapier", label="old")
    arena.host.api_keys.revoke(key.id, tenant_id=arena.a.id)
    return plaintext


KEYS: dict[str, Callable[[Arena], dict[str, str]]] = {
    "no key": lambda arena: {},
    "an empty key": lambda arena: {"X-API-Key": ""},
    "a made-up key": lambda arena: {"X-API-Key": "izk_" + "x" * 40},
    "a revoked key": lambda arena: {"X-API-Key": revoked_key(arena)},
    "the tenant's bearer token as the key": lambda arena: {"X-API-Key": arena.a.token},
    "the key as a bearer token": lambda arena: {"Authorization": f"Bearer {arena.a.api_key}"},
    "a key with one character changed": lambda arena: {"X-API-Key": arena.a.api_key[:-1] + (
        "A" if arena.a.api_key[-1] != "A" else "B")},
    "a very long key": lambda arena: {"X-API-Key": "k" * 5000},
}


@pytest.mark.parametrize("key", list(KEYS))
@pytest.mark.parametrize(("method", "path", "body"), ZAPIER_ROUTES, ids=lambda v: v if isinstance(v, str) else "")
def test_zapier_routes_refuse_missing_and_wrong_keys(arena: Arena, key: str, method: str, path: str,
                                                     body: dict[str, Any] | None) -> None:
    headers = KEYS[key](arena)
    before = snapshot.take(arena.host.store.engine)

    answer = arena.http.request(method, arena.url + path.format(a=arena.a), json=body, headers=headers)

    assert answer.status_code == 401, answer.text[:300]
    assert answer.json()["error"]["code"] in ("api_key_missing", "api_key_invalid")
    assert answer.json()["error"]["message"].strip()
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


# -- CSRF ------------------------------------------------------------------------------------------------------
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_EXEMPT = {("POST", "/webhooks/{name}")}
"""Signed by the provider, never by a browser's cookie."""


def concrete(path: str, arena: Arena) -> str:
    return (path.replace("{name}", "zapier").replace("{id}", arena.a.delivery_id)
            .replace("{key_id}", arena.a.api_key_id).replace("{hook_id}", arena.a.hook_id)
            .replace("{action}", "enroll_member").replace("{form}", CREATE_OFFER))


FORGERIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "a form post without a token": lambda token: {"data": {"label": "forged"}},
    "a form post with a wrong token": lambda token: {"data": {"label": "forged", "csrf_token": token[::-1]}},
    "a multipart post without a token": lambda token: {"files": {"label": (None, "forged")}},
    "a JSON post without the header": lambda token: {"json": {"label": "forged"}},
    "a JSON post with a wrong header": lambda token: {"json": {"label": "forged"},
                                                     "headers": {"X-CSRF-Token": "forged"}},
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_every_state_changing_route_refuses_a_cross_site_request(arena: Arena, browser_a: tuple[httpx.Client, str],
                                                                 forgery: str) -> None:
    client, token = browser_a
    unsafe = sorted(r for r in app_routes(arena) if r[0] in UNSAFE and r not in CSRF_EXEMPT)
    assert len(unsafe) >= 10
    refused = {}
    before = snapshot.take(arena.host.store.engine)
    for method, path in unsafe:
        answer = client.request(method, concrete(path, arena), **FORGERIES[forgery](token))
        refused[(method, path)] = answer.status_code
        if answer.status_code == 403:
            assert answer.json()["error"]["code"] == "csrf_failed"
    assert {route: status for route, status in refused.items() if status != 403} == {}
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}
