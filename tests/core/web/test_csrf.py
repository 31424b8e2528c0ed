"""CSRF: every form post, and every cookie-authenticated API call, needs the session's token."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Route
from web_support import Site

from core.web.app import create_app

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Every form route of the app, with what a real submission sends. A new form route must be added here.
FORM_ROUTES: dict[str, dict[str, Any]] = {
    "/login": {"token": "{token}"},
    "/logout": {},
    "/settings/integrations/deliveries/{id}/retry": {},
    "/settings/integrations/{name}/connect": {"option": "existing", "account": "ada"},
    "/settings/integrations/{name}/disconnect": {},
    "/settings/integrations/{name}/refresh": {},
    "/settings/integrations/{name}/api-keys": {"label": "x"},
    "/settings/integrations/{name}/api-keys/{key_id}/revoke": {},
    "/settings/integrations/{name}/forms/{form}": {"amount": "12.50", "currency": "usd"},
}


def form_routes(site: Site) -> set[str]:
    app = create_app(site.host)
    return {r.path for r in app.routes if isinstance(r, Route) and (r.methods or set()) & UNSAFE
            and not r.path.startswith(("/api/", "/webhooks/"))}


@pytest.fixture
def prepared(site: Site) -> dict[str, str]:
    """Tenant A connected, with a key and a dead delivery, so every form has something to act on."""
    tenant = site.tenant("a")
    site.host.connect(tenant, "demopay", {"option": "existing", "account": "ada"})
    key, _ = site.host.api_keys.create(tenant.id, "hooks", label="k")
    site.host.subscriptions.subscribe(tenant.id, "hooks", event_type="member.created",
                                      target_url="http://127.0.0.1:9/x")
    site.host.emit(tenant.id, "member.created", {"member_id": "m", "email": "m@example.com"})
    (delivery,) = site.host.pipeline.list_deliveries(tenant_id=tenant.id)
    return {"tenant": tenant.id, "id": delivery.id, "key_id": key.id, "token": site.tenants["a"][1]}


def fill(path: str, data: dict[str, Any], values: dict[str, str]) -> tuple[str, dict[str, str]]:
    name = "hooks" if "api-keys" in path else "demopay"
    url = (path.replace("{name}", name).replace("{form}", "payment_link").replace("{id}", values["id"])
           .replace("{key_id}", values["key_id"]))
    return url, {k: str(v).replace("{tenant}", values["tenant"]).replace("{token}", values["token"])
                 for k, v in data.items()}


def test_the_table_lists_every_form_route_of_the_app(site: Site):
    assert form_routes(site) == set(FORM_ROUTES)


@pytest.mark.parametrize("path", sorted(FORM_ROUTES))
@pytest.mark.parametrize("token", ["missing", "wrong", "other session's"])
def test_a_form_post_without_the_right_token_is_refused(site: Site, prepared, path, token):
    browser = site.browser("a")
    other = site.browser("b").csrf
    url, data = fill(path, FORM_ROUTES[path], prepared)
    presented = {"missing": "", "wrong": "not-the-token", "other session's": other}[token]
    before = site.host.connections.find(prepared["tenant"], "demopay")
    response = browser.post(url, data, csrf=presented)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert "Reload the page and try again" in response.json()["error"]["message"]
    assert site.host.connections.find(prepared["tenant"], "demopay") == before, "nothing happened"
    assert [k.id for k in site.host.api_keys.list(prepared["tenant"])] == [prepared["key_id"]]


@pytest.mark.parametrize("path", sorted(FORM_ROUTES))
def test_a_form_post_with_the_token_goes_through(site: Site, prepared, path):
    browser = site.browser("a")
    url, data = fill(path, FORM_ROUTES[path], prepared)
    response = browser.post(url, data)
    assert response.status_code in (201, 303), response.text


def test_a_browser_is_shown_a_page_that_says_what_to_do(site: Site):
    browser = site.browser("a")
    response = browser.post("/settings/integrations/demopay/refresh", csrf="", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This form has expired" in response.text and "Reload the page and try again" in response.text


def test_a_form_post_without_any_session_is_refused(site: Site):
    response = site.anonymous().client.post("/login", data={"tenant_id": site.tenant("a").id})
    assert response.status_code == 403


def test_cookie_authenticated_api_calls_need_the_token_header(site: Site):
    browser = site.browser("a")
    path = "/api/integrations/demopay/connect"
    body = {"option": "existing", "account": "ada"}
    refused = browser.client.post(path, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    wrong = browser.client.post(path, json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    accepted = browser.client.post(path, json=body, headers={"X-CSRF-Token": browser.csrf})
    assert accepted.status_code == 201
    assert browser.client.get("/api/integrations").status_code == 200, "reading needs no token"


def test_bearer_api_calls_and_webhooks_are_not_cookie_authenticated_and_need_no_token(site: Site):
    api = site.api("a")
    assert api.post("/api/integrations/demopay/connect", json={"account": "ada"}).status_code == 201
    webhook = site.anonymous().client.post("/webhooks/demopay", json={"id": "evt_1"})
    assert webhook.status_code != 403


# -- the cookie is only trusted with the session's token and a same-origin Origin/Referer ------------------------
EVIL = "https://evil.example"


@pytest.mark.parametrize("authorization", ["Basic YWRhOnNlY3JldA==", "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnY=",
                                           "Digest username=\"ada\"", "Bearer"])
def test_an_authorization_header_that_is_no_token_does_not_skip_csrf(site: Site, authorization: str):
    browser = site.browser("a")
    tenant = site.tenant("a").id

    forged = browser.client.post("/api/api-keys", json={"integration": "hooks", "label": "evil"},
                                 headers={"Authorization": authorization, "Origin": EVIL})

    assert forged.status_code in (401, 403), forged.text
    assert site.host.api_keys.list(tenant) == []


@pytest.mark.parametrize("extra", [{"X-API-Key": "izk_made_up"}, {"X-Requested-With": "XMLHttpRequest"}])
def test_other_headers_do_not_skip_csrf_either(site: Site, extra: dict[str, str]):
    browser = site.browser("a")

    forged = browser.client.post("/api/api-keys", json={"integration": "hooks", "label": "evil"},
                                 headers={**extra, "Origin": EVIL})

    assert forged.status_code == 403
    assert site.host.api_keys.list(site.tenant("a").id) == []


@pytest.mark.parametrize("origin_headers", [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Referer": f"{EVIL}/page"},
    {},  # neither: a browser always sends Origin on a POST; its absence is not ours
])
def test_the_right_token_from_another_origin_is_still_refused(site: Site, origin_headers: dict[str, str]):
    browser = site.browser("a")
    browser.client.headers.pop("Origin", None)

    response = browser.client.post("/api/integrations/demopay/connect", json={"option": "existing", "account": "ada"},
                                   headers={"X-CSRF-Token": browser.csrf, **origin_headers})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert site.host.connections.find(site.tenant("a").id, "demopay") is None


def test_a_same_origin_referer_is_enough_when_the_origin_header_is_absent(site: Site):
    browser = site.browser("a")
    browser.client.headers.pop("Origin", None)

    response = browser.client.post("/api/integrations/demopay/connect", json={"option": "existing", "account": "ada"},
                                   headers={"X-CSRF-Token": browser.csrf,
                                            "Referer": f"{site.url}/settings/integrations"})

    assert response.status_code == 201, response.text


def test_a_valid_bearer_token_is_its_own_credential_and_the_cookie_is_not_consulted(site: Site):
    browser = site.browser("a")  # signed in as A
    _, b_token = site.tenants["b"]

    response = browser.client.post("/api/api-keys", json={"integration": "hooks", "label": "B's"},
                                   headers={"Authorization": f"Bearer {b_token}", "Origin": EVIL})

    assert response.status_code == 201, response.text
    assert [k.label for k in site.host.api_keys.list(site.tenant("b").id)] == ["B's"]
    assert site.host.api_keys.list(site.tenant("a").id) == []


def test_an_invalid_bearer_token_never_falls_back_to_the_cookie(site: Site):
    browser = site.browser("a")

    response = browser.client.post("/api/api-keys", json={"integration": "hooks", "label": "x"},
                                   headers={"Authorization": "Bearer itk_not_a_token", "X-CSRF-Token": browser.csrf})

    assert response.status_code == 401
    assert site.host.api_keys.list(site.tenant("a").id) == []
