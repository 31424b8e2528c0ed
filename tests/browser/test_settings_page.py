"""A creator clicks through Settings > Integrations in a real browser (Chromium) against a live server."""

from __future__ import annotations

import re

import pytest
from browser_support import SECRET_VALUE, DemoPay, Hooks, card
from playwright.sync_api import expect

from core.testing import free_port
from core.web.app import create_app


@pytest.fixture
def server(make_host, live_server):
    port = free_port()
    host = make_host(plugins={"demopay": DemoPay(), "hooks": Hooks()},
                     settings={"demo_sign_in": True, "public_url": f"http://127.0.0.1:{port}"})
    host.tenants.create("Ada's Studio")
    host.tenants.create("Bob's Bakery")
    return live_server(create_app(host), port=port)


def sign_in(page, server, name="Ada's Studio"):
    page.goto(f"{server}/settings/integrations")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Sign in as {name}").click()
    expect(page.get_by_role("heading", name="Integrations", level=1)).to_be_visible()


def test_sign_in_connect_create_a_key_once_and_disconnect(page, server, screenshot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    sign_in(page, server)
    assert page.url == f"{server}/settings/integrations"
    expect(page.get_by_text("Signed in as Ada's Studio")).to_be_visible()
    demopay = card(page, "Demo Pay")
    expect(demopay.locator(".badge")).to_have_text("Not connected")
    screenshot(page, "signed-in")

    demopay.get_by_label("Account name").fill("ada")
    demopay.get_by_label("Secret key").fill(SECRET_VALUE)
    demopay.get_by_role("button", name="I have a Demo Pay account").click()
    expect(page.locator("#flash")).to_contain_text("Demo Pay is connected.")
    expect(demopay.locator(".badge")).to_have_text("Connected")
    assert SECRET_VALUE not in page.content()
    screenshot(page, "connected")

    hooks = card(page, "Hooks")
    hooks.get_by_label("Label for a new key").fill("My Zaps")
    hooks.get_by_role("button", name="Create API key").click()
    new_key = page.get_by_label("New API key")
    expect(new_key).to_have_value(re.compile(r"^ik_"))
    plaintext = new_key.input_value()
    expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    copy = page.locator("button[data-copy-target]")
    expect(copy).to_have_text("Copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    screenshot(page, "api-key-once")
    assert page.url == f"{server}/settings/integrations", "the address is the page's, so reloading is safe"

    page.reload()
    assert plaintext not in page.content()
    expect(card(page, "Hooks").get_by_role("cell", name=re.compile("My Zaps"))).to_be_visible()
    expect(card(page, "Hooks").locator(".badge")).to_have_text("1 active key")

    card(page, "Demo Pay").get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Disconnect Demo Pay?")).to_be_visible()
    screenshot(page, "confirm-disconnect")
    page.get_by_role("button", name="Yes, disconnect Demo Pay").click()
    expect(page.locator("#flash")).to_contain_text("Demo Pay is disconnected.")
    expect(card(page, "Demo Pay").locator(".badge")).to_have_text("Disconnected")
    screenshot(page, "disconnected")


def test_connecting_through_the_provider_shows_action_required_with_the_dashboard_link(page, server, screenshot):
    sign_in(page, server)
    demopay = card(page, "Demo Pay")
    demopay.get_by_label("Account name").fill("ada")
    demopay.get_by_role("button", name="Create a new account").click()
    expect(page.locator("#flash")).to_contain_text("Demo Pay needs your bank details.")
    expect(demopay.locator(".badge")).to_have_text("Action required")
    expect(demopay.get_by_role("link", name="Manage in Demo Pay dashboard")).to_have_attribute(
        "href", "https://dashboard.demopay.example/")
    screenshot(page, "action-required")


def test_the_page_works_without_javascript(chromium, server, screenshot):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, server)
        card(page, "Hooks").get_by_role("button", name="Create API key").click()
        expect(page.get_by_label("New API key")).to_have_value(re.compile(r"^ik_"))
        expect(page.get_by_role("button", name="Copy", exact=True)).to_be_hidden()
        demopay = card(page, "Demo Pay")
        demopay.get_by_label("Account name").fill("ada")
        demopay.get_by_role("button", name="I have a Demo Pay account").click()
        card(page, "Demo Pay").get_by_role("link", name="Disconnect").click()
        page.get_by_role("button", name="Yes, disconnect Demo Pay").click()
        expect(card(page, "Demo Pay").locator(".badge")).to_have_text("Disconnected")
        screenshot(page, "no-javascript")
    finally:
        context.close()


def test_keyboard_users_can_skip_to_the_content_and_reach_every_control(page, server):
    sign_in(page, server)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    focused = []
    describe = "document.activeElement.getAttribute('name') || document.activeElement.textContent"
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(describe))
    assert "account" in focused and "api_secret" in focused
    assert focused.index("account") < focused.index("api_secret"), "the form is in reading order"
