"""The whole story in Chromium, as a creator and a buyer click it on the miniature Intellectra.

A creator signs in to the site, opens Settings › Integrations inside the site's layout, connects
Stripe through the sandbox (an account that still needs verification) and Zapier; a paid course is
refused with Stripe's message and a link to the dashboard until the account is verified, then
created; a buyer pays on the sandbox's checkout page and the site enrolls them when
``purchase.completed`` arrives; the enrollment reaches the Zapier subscription signed, and Zapier's
"Enroll Member in Course" action enrolls one more member.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from conftest import ADA, Receiver, RunningSite
from playwright.sync_api import expect

pytestmark = pytest.mark.chromium


def reload_until(page: Any, locator: Any, text: str, timeout: float = 30.0) -> None:
    """Reload until ``locator`` shows ``text`` (webhooks and workers are asynchronous)."""
    deadline = time.monotonic() + timeout
    while text not in " ".join(locator.all_inner_texts()):
        if time.monotonic() > deadline:
            expect(locator).to_contain_text(text)  # fails with Playwright's description of what is there
        time.sleep(0.3)
        page.reload()


def wait_until(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def stripe_card(page: Any) -> Any:
    return page.locator("article.card", has=page.get_by_role("heading", name="Stripe", exact=True))


def zapier_card(page: Any) -> Any:
    return page.locator("article.card", has=page.get_by_role("heading", name="Zapier", exact=True))


def new_course(page: Any, title: str, price: str) -> None:
    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Price").fill(price)
    page.get_by_label("Currency").select_option("usd")
    page.get_by_role("button", name="Create course").click()


def test_a_creator_sells_a_course_a_buyer_is_enrolled_and_zapier_hears_of_it(
        page: Any, chromium: Any, running_site: RunningSite, receiver: Receiver, screenshot: Any) -> None:
    site = running_site.url

    # the creator signs in to the site itself, never to the integration host
    page.goto(site)
    expect(page.get_by_role("heading", name="Sign in to Intellectra")).to_be_visible()
    page.get_by_label("Email").fill(ADA["email"])
    page.get_by_label("Password").fill(ADA["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()

    # Settings › Integrations, inside the site's own layout
    page.get_by_role("link", name="Settings › Integrations").click()
    expect(page).to_have_url(f"{site}/integrations/settings/integrations")
    expect(page.locator(".site-bar")).to_contain_text(ADA["site_name"])
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    stripe = stripe_card(page)
    expect(stripe.locator("#stripe_connect-state")).to_have_text("Not connected")

    # Stripe through the sandbox's OAuth page: an account that still needs verification
    stripe.get_by_role("button", name="I have a Stripe account").click()
    expect(page.get_by_role("heading", name=re.compile("Connect your Stripe account"))).to_be_visible()
    page.locator("#register-email").fill(ADA["email"])
    page.locator("#register-business-name").fill(ADA["site_name"])
    page.locator("#register-status").select_option("unverified")
    page.locator("#register").click()
    page.get_by_role("radio", name=re.compile(re.escape(ADA["site_name"]))).check()
    page.locator("#connect").click()
    expect(page).to_have_url(re.compile(re.escape(f"{site}/integrations/settings/integrations")))
    expect(page.locator("#flash")).to_contain_text("Connected, but action is required")
    expect(page.locator(".site-bar")).to_be_visible()
    screenshot(page, "stripe-in-the-sites-layout")

    # Zapier: creating its API key connects it; then subscribe as Zapier does
    zapier = zapier_card(page)
    zapier.get_by_label("Label for a new key").fill("My Zaps")
    zapier.get_by_role("button", name="Create API key").click()
    api_key = page.get_by_label("New API key").input_value()
    zapier_api = httpx.Client(base_url=f"{site}/integrations", headers={"X-API-Key": api_key}, timeout=20)
    hook = zapier_api.post("/api/zapier/hooks", json={"target_url": receiver.url, "event": "enrollment.created"})
    assert hook.status_code == 201, hook.text
    receiver.secret = hook.json()["secret"]

    # a paid course is refused while Stripe needs verification: Stripe's message, the dashboard linked
    new_course(page, "Watercolour basics", "49")
    error = page.locator("#course-error")
    expect(error).to_contain_text("Your Stripe account cannot accept payments yet, so no offer was created.")
    dashboard = error.get_by_role("link", name="Open your Stripe dashboard")
    expect(dashboard).to_have_attribute("href", re.compile(r"/dashboard/acct_"))
    screenshot(page, "paid-course-refused")

    # the creator provides what Stripe asks for, and the course is created
    dashboard.click()
    page.locator("#provide").click()
    page.goto(f"{site}/courses")
    new_course(page, "Watercolour basics", "49")
    expect(page.locator("#site-flash")).to_contain_text("“Watercolour basics” is ready (49.00 USD)")
    sales_link = page.locator("#sales-link")
    sales_url = sales_link.get_attribute("href")
    assert sales_url is not None and sales_url.startswith(f"{site}/c/crs_")
    course_page = page.url

    # a buyer opens the shared sales page (no sign-in) and pays on the sandbox's checkout page
    buyer = chromium.new_context(viewport={"width": 1000, "height": 900}, locale="en-US").new_page()
    buyer.set_default_timeout(20_000)
    buyer.goto(sales_url)
    expect(buyer.get_by_text("49.00 USD")).to_be_visible()
    screenshot(buyer, "sales-page")
    buyer.get_by_role("link", name="Buy “Watercolour basics”").click()
    # the Stripe integration's buyer page, in the site's layout; its Buy opens Stripe's (sandbox) checkout
    expect(buyer.locator("#offer-title")).to_have_text("Watercolour basics")
    expect(buyer.locator(".site-bar")).to_be_visible()
    screenshot(buyer, "buyer-page")
    buyer.get_by_role("button", name="Buy", exact=True).click()
    buyer.locator("#email").fill("buyer@example.com")
    buyer.locator("#pay").click()
    expect(buyer.get_by_role("heading", name="Thank you for your purchase")).to_be_visible()
    buyer.context.close()

    # the site enrolled the buyer when purchase.completed arrived
    page.goto(course_page)
    students = page.locator("#students")
    reload_until(page, students, "buyer@example.com")
    expect(students).to_contain_text("purchase")
    screenshot(page, "buyer-enrolled")

    # Zapier's "Enroll Member in Course" goes through the site's perform_action
    course_id = page.locator("#course-id").inner_text()
    enrolled = zapier_api.post("/api/zapier/actions/enroll_member",
                               json={"email": "zap@example.com", "course_id": course_id})
    assert enrolled.status_code == 200, enrolled.text
    reload_until(page, students, "zap@example.com")

    # both enrollments reached the Zapier subscription, each signed (verified with standardwebhooks)
    wait_until(lambda: len(receiver.verified) >= 2, "two signed enrollment.created deliveries")
    assert receiver.refused == []
    assert sorted(d["data"]["email"] for d in receiver.verified) == ["buyer@example.com", "zap@example.com"]
    assert {d["type"] for d in receiver.verified} == {"enrollment.created"}
    assert {d["data"]["course_title"] for d in receiver.verified} == {"Watercolour basics"}
