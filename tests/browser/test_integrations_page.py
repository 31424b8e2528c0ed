"""Settings > Integrations as a creator and a buyer use it, in Chromium against `serve --sandbox`'s setup:
the states in Stripe's words, who is connected, Stripe's amount limits with the error where it happened,
the offers list with copy link and archive, the buyer page, payouts and disputes at a glance, Zapier's
set-up, a phone's width, and axe (WCAG A/AA) in each state."""

from __future__ import annotations

import re

import httpx
from browser_support import assert_accessible, card, connect_unverified, in_viewport
from playwright.sync_api import expect
from test_demo_story import ADA, reload_until


def sign_in(page, demo) -> None:
    page.goto(demo)
    page.get_by_role("button", name=f"Sign in as {ADA}").click()
    expect(page.get_by_role("heading", name="Integrations", level=1)).to_be_visible()


def sandbox_url(page) -> str:
    href = card(page, "Stripe").get_by_role("link", name="Manage in Stripe dashboard").get_attribute("href")
    return href.split("/dashboard/")[0]


def test_a_creator_connects_sells_and_sees_the_money_and_a_buyer_buys(page, demo, screenshot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo)
    sign_in(page, demo)
    assert_accessible(page, "not connected")
    account_id = connect_unverified(page)
    stripe = card(page, "Stripe")

    # action required: what Stripe needs, once, as a list; the form is locked, saying why
    needs = stripe.get_by_role("region", name="Stripe needs from you")
    expect(needs.get_by_role("listitem").first).to_be_visible()
    assert page.content().count("A bank account for payouts") == 1
    expect(stripe.get_by_role("link", name="Finish setup in Stripe")).to_be_visible()  # its own login: its dashboard
    expect(stripe.locator("#stripe_connect-form-create_offer-locked")).to_contain_text("You can create offers once")
    expect(stripe.get_by_label("Price")).to_have_count(0)
    # who is connected
    expect(stripe.locator("dt:text-is('Account') + dd")).to_have_text("Ada's Watercolour Studio")
    assert account_id.startswith("acct_")
    expect(stripe.locator(".badge", has_text="Test mode")).to_be_visible()
    expect(stripe.locator("dt:text-is('Payments') + dd")).to_have_text("Not yet")
    assert_accessible(page, "action required")
    screenshot(page, "action-required")

    # verification in progress: nothing to do, said apart from "action required"
    sandbox = sandbox_url(page)
    httpx.post(f"{sandbox}/_sandbox/accounts/{account_id}/requirements", json={
        "currently_due": [], "past_due": [], "pending_verification": ["individual.verification.document"],
        "details_submitted": True, "charges_enabled": False, "payouts_enabled": False}).raise_for_status()
    reload_until(page, stripe.locator("#stripe_connect-reason"), "Stripe is verifying your details")
    expect(stripe.locator("#stripe_connect-state")).to_have_text("Verification in progress")
    expect(stripe.get_by_role("link", name="Finish setup in Stripe")).to_have_count(0)
    assert_accessible(page, "verification in progress")

    # connected: the offer form opens
    httpx.post(f"{sandbox}/_sandbox/accounts/{account_id}/verify").raise_for_status()
    reload_until(page, stripe.locator("#stripe_connect-state"), "Connected")
    expect(stripe.locator("dt:text-is('Payments') + dd")).to_have_text("Enabled")
    offer_form = stripe.get_by_role("region", name="Create a paid offer")
    expect(offer_form.get_by_label("Currency")).to_contain_text("at least USD 0.50 and at most USD 999,999.99")

    # a price Stripe would not charge: the error is in the form, in view, on the field
    offer_form.get_by_label("Title").fill("Watercolour basics")
    offer_form.get_by_label("What you sell").select_option("course")
    offer_form.get_by_label("Price").fill("0.01")
    offer_form.get_by_label("After paying, send buyers to").fill(f"{demo}/settings/integrations")
    offer_form.get_by_role("button", name="Create offer").click()
    message = page.locator("#flash")
    expect(message).to_contain_text("Price: enter at least USD 0.50 and at most USD 999,999.99")
    assert in_viewport(page, message), "the message is where the creator looks"
    price = offer_form.get_by_label("Price")
    expect(price).to_have_attribute("aria-invalid", "true")
    described = price.get_attribute("aria-describedby") or ""
    expect(page.locator(f"#{described.split()[0]}")).to_contain_text("enter at least USD 0.50")
    assert offer_form.locator("#flash").count() == 1, "inside the form that was used"
    assert_accessible(page, "invalid price")
    screenshot(page, "price-limits")

    # a good offer: listed with a link to copy
    price.fill("49")
    offer_form.get_by_role("button", name="Create offer").click()
    expect(page.locator("#flash")).to_contain_text("Offer “Watercolour basics” created (USD 49.00)")
    assert in_viewport(page, page.locator("#flash"))
    offers = stripe.get_by_role("region", name="Your offers")
    row = offers.get_by_role("row", name=re.compile("Watercolour basics"))
    expect(row).to_contain_text("USD 49.00")
    row.get_by_role("button", name="Copy link for Watercolour basics (Course)").click()
    link = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"{demo}/integrations/stripe_connect/buy/tn_\w+/price_\w+", link), link
    assert_accessible(page, "offer listed")

    # the buyer page: title, price, Buy; Buy goes to Stripe's (sandbox) page
    buyer = page.context.new_page()
    buyer.goto(link)
    expect(buyer.get_by_role("heading", name="Watercolour basics")).to_be_visible()
    expect(buyer.locator("#offer-price")).to_have_text("USD 49.00")
    assert_accessible(buyer, "buyer page")
    buyer.get_by_role("button", name="Buy").click()
    buyer.locator("#email").fill("grace@example.com")
    buyer.locator("#pay").click()

    # money at a glance: a payout and a dispute, each linking into the creator's dashboard
    charge = httpx.get(f"{sandbox}/_sandbox/events", params={"account": account_id, "type": "charge.succeeded"}
                       ).json()["data"][0]["data"]["object"]["id"]
    dispute = httpx.post(f"{sandbox}/_sandbox/charges/{charge}/dispute", json={}).json()
    httpx.post(f"{sandbox}/_sandbox/accounts/{account_id}/payouts", json={"amount": 2500}).raise_for_status()
    page.reload()
    payouts = stripe.get_by_role("region", name="Payouts")
    expect(payouts.locator("dt:text-is('Pending') + dd")).not_to_have_text("USD 0.00")
    expect(payouts.locator("dt:text-is('Next payout') + dd")).to_contain_text("USD 25.00, arriving")
    disputes = stripe.get_by_role("region", name="Open disputes")
    expect(disputes.get_by_role("row", name=re.compile("USD 49.00"))).to_contain_text("Buyer says it was fraud")
    respond = disputes.get_by_role("link", name="Respond in Stripe")
    expect(respond).to_have_attribute("href", re.compile(rf"/dashboard/{account_id}/test/disputes/{dispute['id']}$"))
    assert_accessible(page, "payouts and disputes")
    screenshot(page, "money")

    # archive, after a confirmation that says what happens; the link then says so to buyers
    row = offers.get_by_role("row", name=re.compile("Watercolour basics"))
    row.get_by_label("Archive Watercolour basics").click()
    expect(row).to_contain_text("Its checkout link stops selling at once")
    row.get_by_role("button", name="Yes, archive “Watercolour basics”").click()
    expect(page.locator("#flash")).to_contain_text("“Watercolour basics” is archived")
    assert in_viewport(page, page.locator("#flash"))
    expect(offers.get_by_role("row", name=re.compile("Watercolour basics"))).to_contain_text("Archived")
    gone = buyer.goto(link)
    assert gone is not None and gone.status == 410
    expect(buyer.get_by_role("heading", name="This offer is no longer on sale")).to_be_visible()
    assert_accessible(buyer, "archived offer")
    buyer.goto(f"{demo}/integrations/stripe_connect/buy/tn_nobody/price_nothing")
    expect(buyer.get_by_role("heading", name="This offer is not available")).to_be_visible()

    # disconnecting says what stops
    stripe.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_text("Your checkout links stop selling")).to_be_visible()
    assert_accessible(page, "confirm disconnect")


def test_zapier_is_set_up_by_creating_a_key_with_numbered_steps(page, demo, screenshot):
    sign_in(page, demo)
    zapier = card(page, "Zapier")
    steps = zapier.get_by_role("region", name="How to set it up")
    expect(steps.locator("ol > li")).to_have_count(3)
    expect(zapier.get_by_role("link", name="Open Zapier")).to_have_attribute("href", re.compile("^https://zapier.com/"))
    assert "intellectra-integrations" not in zapier.inner_text(), "no command line in creator copy"
    expect(zapier.get_by_role("button", name="Connect Zapier")).to_have_count(0)
    zapier.get_by_label("Label for a new key").fill("My Zaps")
    zapier.get_by_role("button", name="Create API key").click()
    expect(page.get_by_label("New API key")).to_have_value(re.compile(r"^ik_"))
    assert in_viewport(page, page.locator("#new-key"))
    expect(zapier.locator("#zapier-state")).to_have_text("Connected")
    page.reload()
    zapier.get_by_label("Revoke key My Zaps").click()
    expect(zapier.locator(".confirm-box p", has_text="Revoke “My Zaps”")).to_be_visible()
    expect(zapier.get_by_role("button", name="Yes, revoke “My Zaps”")).to_be_visible()
    expect(zapier.get_by_text("Zaps connected with this key stop running")).to_be_visible()
    assert_accessible(page, "zapier revoke confirmation")
    zapier.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_text("Every API key of this site stops working (1 API key)")).to_be_visible()
    page.get_by_role("button", name="Yes, disconnect Zapier").click()
    expect(page.locator("#flash")).to_contain_text("Zapier is disconnected")
    assert in_viewport(page, page.locator("#flash"))


def test_on_a_phone_nothing_scrolls_sideways_and_controls_are_big_enough(chromium, demo, screenshot):
    context = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, demo)
        connect_unverified(page)
        card(page, "Zapier").get_by_role("button", name="Create API key").click()
        page.goto(f"{demo}/settings/integrations")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        controls = "main button, main a.button, main summary, main input, main select"
        small = page.evaluate(f"""[...document.querySelectorAll('{controls}')].filter(e => e.offsetParent !== null)
            .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect().height]).filter(([, h]) => h < 44)""")
        assert small == [], f"tap targets under 44 px: {small}"
        rows = page.locator("#zapier table tbody tr").first
        assert rows.evaluate("e => getComputedStyle(e).display") == "block", "tables become stacked rows"
        assert_accessible(page, "phone")
        screenshot(page, "phone")
    finally:
        context.close()
