"""Signing in to the page: demo sites under ``serve --sandbox``, the site's token everywhere."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from web_support import Browser, DemoPay, Site

from core.web.app import create_app


@pytest.fixture
def site(make_site) -> Site:
    """A site with demo sign-in, as ``serve --sandbox`` runs it (``Settings.demo_sign_in``)."""
    return make_site(settings={"demo_sign_in": True})


def test_the_sandbox_lists_the_demo_sites_to_click(site: Site):
    login = site.anonymous().get("/login")
    assert login.status_code == 200
    assert "Sign in as Ada&#39;s Studio" in login.text and "Sign in as Bob&#39;s Bakery" in login.text


def test_a_demo_site_signs_in_and_lands_on_the_settings_page(site: Site):
    browser = site.anonymous()
    browser.get("/login")
    response = browser.post("/login", {"tenant_id": site.tenant("b").id})
    assert response.status_code == 303 and response.headers["location"] == "/settings/integrations"
    assert "Signed in as <strong>Bob&#39;s Bakery</strong>" in browser.page()


def test_production_signs_in_with_the_sites_token_only(make_site):
    site = make_site()
    browser = site.anonymous()
    login = browser.get("/login")
    assert "Demo sites" not in login.text
    assert '<input id="token" name="token" type="password"' in login.text
    demo = browser.post("/login", {"tenant_id": site.tenant("a").id})
    assert demo.status_code == 400 and "only available under `serve --sandbox`" in demo.text
    wrong = browser.post("/login", {"token": "itk_not_a_real_token"})
    assert wrong.status_code == 400 and "is not known here" in wrong.text
    assert "itk_not_a_real_token" not in wrong.text, "a pasted token is never echoed back"
    right = browser.post("/login", {"token": site.tenants["a"][1]})
    assert right.status_code == 303
    assert "Signed in as <strong>Ada&#39;s Studio</strong>" in browser.page()


def test_an_empty_sign_in_says_what_to_do(site: Site):
    browser = site.anonymous()
    response = browser.post("/login", {})
    assert response.status_code == 400 and "Paste your site&#39;s token to sign in." in response.text


@pytest.mark.parametrize(("next_path", "lands_on"), [
    ("/settings/integrations#demopay", "/settings/integrations#demopay"),
    ("https://evil.example/phish", "/settings/integrations"),
    ("//evil.example/phish", "/settings/integrations"),
    ("/\\evil.example", "/settings/integrations"),
])
def test_after_sign_in_only_local_destinations_are_followed(site: Site, next_path, lands_on):
    browser = site.anonymous()
    browser.get("/login")
    response = browser.post("/login", {"tenant_id": site.tenant("a").id, "next": next_path})
    assert response.headers["location"] == lands_on


def test_signing_in_starts_a_fresh_session_with_a_new_csrf_token(site: Site):
    browser = site.anonymous()
    browser.get("/login")
    before = browser.csrf
    browser.post("/login", {"tenant_id": site.tenant("a").id})
    browser.page()
    assert browser.csrf and browser.csrf != before
    assert browser.post("/settings/integrations/demopay/refresh", csrf=before).status_code == 403


def test_sign_out_forgets_the_site(site: Site):
    browser = site.browser("a")
    response = browser.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert browser.get("/settings/integrations").status_code == 303


def test_the_page_works_when_the_host_app_mounts_it_under_a_prefix(make_host, live_server):
    host = make_host(plugins={"demopay": DemoPay()}, settings={"demo_sign_in": True})
    tenant, _ = host.tenants.create("Ada's Studio")
    url = live_server(Starlette(routes=[Mount("/host", app=create_app(host))]))
    with httpx.Client(base_url=url, headers={"Origin": url}) as client:
        browser = Browser(client)
        assert browser.get("/host/settings/integrations").headers["location"] == \
            "/host/login?next=%2Fsettings%2Fintegrations"
        browser.get("/host/login")
        signed_in = browser.post("/host/login", {"tenant_id": tenant.id})
        assert signed_in.headers["location"] == "/host/settings/integrations"
        page = browser.get("/host/settings/integrations").text
        assert 'action="/host/settings/integrations/demopay/connect"' in page
        assert 'href="/host/static/intellectra/settings.css"' in page
        assert browser.get("/host/static/intellectra/settings.css").status_code == 200
