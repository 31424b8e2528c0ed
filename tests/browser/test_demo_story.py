"""The whole demo, as a newcomer clicks it in ``serve --sandbox``: Stripe through the sandbox's pages
(action required, then connected), a paid offer created with the form on the Stripe card and bought
on the sandbox checkout page its link opens, the purchase arriving as an event, a Zapier key, and
disconnecting.

The server is set up the way ``serve --sandbox`` does it: this repository's registry.toml, the plugins'
development servers started through the ``dev_servers`` hook (``core.sandbox_mode``), demo tenants
seeded, and the pipeline's workers running in the web app.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from browser_support import REPO, card, connect_unverified
from playwright.sync_api import expect

from core.sandbox_mode import DEMO_TENANTS

README_IMAGES = REPO / "docs" / "images"
UPDATE_README = "INTELLECTRA_UPDATE_SCREENSHOT"
ADA = DEMO_TENANTS[0]


def reload_until(page, locator, text: str, timeout: float = 20.0) -> None:
    """Reload the settings page until ``locator`` shows ``text`` (webhooks arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        page.reload()
        if text in " ".join(locator.all_inner_texts()):
            return
        if time.monotonic() > deadline:
            expect(locator).to_contain_text(text)  # fails with Playwright's description of what is there
            return
        time.sleep(0.3)


def test_the_demo_story(page, demo, screenshot):
    # sign in as a demo creator
    page.goto(demo)
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    screenshot(page, "sign-in")
    page.get_by_role("button", name=f"Sign in as {ADA}").click()
    stripe, zapier = card(page, "Stripe"), card(page, "Zapier")
    expect(stripe.locator("#stripe_connect-state")).to_have_text("Not connected")
    expect(stripe.get_by_role("button", name="Create a new account")).to_be_visible()

    # connect an existing Stripe account through the sandbox's OAuth page; it still needs information
    connect_unverified(page)
    expect(page.locator("#flash")).to_contain_text("Connected, but action is required")
    screenshot(page, "stripe-action-required")

    # provide the information in the (sandbox) Stripe dashboard; account.updated brings "connected"
    stripe.get_by_role("link", name="Manage in Stripe dashboard").click()
    page.locator("#provide").click()
    page.goto(f"{demo}/settings/integrations")
    reload_until(page, stripe.locator("#stripe_connect-state"), "Connected")
    screenshot(page, "stripe-connected")

    # a paid offer, through the form on the Stripe card; the flash links its checkout page
    offer_form = stripe.get_by_role("region", name="Create a paid offer")
    offer_form.get_by_label("Title").fill("Watercolour basics")
    offer_form.get_by_label("What you sell").select_option("course")
    offer_form.get_by_label("Price").fill("49")
    offer_form.get_by_label("Currency").select_option("usd")
    offer_form.get_by_label("After paying, send buyers to").fill(f"{demo}/settings/integrations")
    offer_form.get_by_role("button", name="Create offer").click()
    expect(page.locator("#flash")).to_contain_text("Offer “Watercolour basics” created (USD 49.00)")
    screenshot(page, "offer-created")

    # a buyer follows the checkout link: the offer's page, Buy, then pays on the sandbox checkout page;
    # the purchase arrives as an event
    save_readme_screenshot(page, screenshot, "offers", scroll_to="#stripe_connect-offers")
    page.locator("#flash").get_by_role("link", name="Open its checkout page").click()
    expect(page.get_by_role("heading", name="Watercolour basics")).to_be_visible()
    expect(page.locator("#offer-price")).to_have_text("USD 49.00")
    save_readme_screenshot(page, screenshot, "buyer-page", width=720, height=520)
    page.get_by_role("button", name="Buy").click()
    page.locator("#email").fill("grace@example.com")
    page.locator("#pay").click()
    page.goto(f"{demo}/settings/integrations")
    events = page.locator("#events")
    reload_until(page, events, "Purchase completed")
    expect(events).to_contain_text("Watercolour basics · 49.00 USD · grace@example.com")
    screenshot(page, "purchase-event")

    # Zapier: creating the API key is the connect step (shown once)
    expect(zapier.get_by_role("button", name="Connect Zapier")).to_have_count(0)
    zapier.get_by_label("Label for a new key").fill("My Zaps")
    zapier.get_by_role("button", name="Create API key").click()
    key = page.get_by_label("New API key")
    expect(key).to_have_value(re.compile(r"^ik_"))
    expect(zapier.locator("#zapier-state")).to_have_text("Connected")
    screenshot(page, "zapier-key")
    page.reload()
    assert key.count() == 0, "the key is shown once"
    save_readme_screenshot(page, screenshot, "settings-page", scroll_to="#stripe_connect")
    save_readme_screenshot(page, screenshot, "phone", width=375, height=760, scroll_to="#stripe_connect")
    page.set_viewport_size({"width": 1180, "height": 720})

    # disconnect Stripe, with confirmation
    stripe.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Disconnect Stripe?")).to_be_visible()
    page.get_by_role("button", name="Yes, disconnect Stripe").click()
    expect(page.locator("#flash")).to_contain_text("Stripe is disconnected.")
    expect(stripe.locator("#stripe_connect-state")).to_have_text("Disconnected")
    screenshot(page, "stripe-disconnected")


def save_readme_screenshot(page, screenshot, name: str, *, width: int = 1180, height: int = 720,
                           scroll_to: str | None = None) -> None:
    """One of the README's pictures of the page (docs/images/<name>.png), small enough to commit.

    Saved under test-artifacts every run; copied over the README's image only when
    ``INTELLECTRA_UPDATE_SCREENSHOT=1``, so running the tests never changes a tracked file.
    """
    page.set_viewport_size({"width": width, "height": height})
    if scroll_to is not None:
        target = page.locator(scroll_to).first
        expect(target).to_be_visible()
        page.evaluate("(element) => window.scrollTo(0, element.getBoundingClientRect().top + window.scrollY - 16)",
                      target.element_handle())
    path: Path = screenshot(page, f"readme-{name}", full_page=False)
    assert path.stat().st_size < 150_000, f"{path} is {path.stat().st_size} bytes; keep the README image small"
    if os.environ.get(UPDATE_README) == "1":
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_IMAGES / f"{name}.png")
