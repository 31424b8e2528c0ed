"""A creator creates a paid offer from the "Create a paid offer" form on the Stripe card, against the sandbox.

The form is the plugin's card form (``IntegrationInfo.card_forms``); the host checks required fields
and choices, the plugin turns price and kind into an offer exactly as ``POST /api/stripe_connect/offers``
does, and the answer (with the checkout link) is the page's flash message.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest
from stripe_kit import NAME, StripeWorld
from test_stripe_offers import sandbox_client

from plugins.stripe_connect.info import KIND_CHOICES
from plugins.stripe_connect.money import amount_from_price
from plugins.stripe_connect.offers import KINDS

FORM = f"/settings/integrations/{NAME}/forms/create_offer"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
OFFER = {"title": "Watercolour basics", "kind": "course", "price": "49.90", "currency": "usd",
         "success_url": "https://ada.example/thanks"}


class Creator:
    """A browser signed in to the settings page of ``token``'s site (cookies and the CSRF token)."""

    def __init__(self, world: StripeWorld, token: str) -> None:
        self.client = httpx.Client(base_url=world.host_url, follow_redirects=False, timeout=20,
                                   headers={"Origin": world.host_url})
        self.csrf = ""
        self.last_page = ""
        self.get("/login")
        signed_in = self.post("/login", {"token": token})
        assert signed_in.status_code == 303, signed_in.text
        self.page()

    def get(self, path: str) -> httpx.Response:
        response = self.client.get(path)
        if found := CSRF_META.search(response.text):
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.client.post(path, data={"csrf_token": self.csrf, **data})

    def page(self) -> str:
        response = self.get("/settings/integrations")
        assert response.status_code == 200, response.text
        self.last_page = html.unescape(response.text)
        return self.last_page

    def flash(self) -> tuple[str, tuple[str, str] | None]:
        """The flash message's text and its link (href, label), if any."""
        page = self.page()
        found = re.search(r'id="flash"[^>]*>\s*<p>(.*?)</p>', page, re.S)
        assert found, "no flash message on the page"
        link = re.search(r'<p class="flash-link"><a href="([^"]+)"[^>]*>([^<]+)</a>', page)
        return re.sub(r"<[^>]+>", "", found.group(1)), (link.group(1), link.group(2)) if link else None


@pytest.fixture
def creator(stripe_world: StripeWorld):
    def sign_in(*, verified: bool = True) -> tuple[Creator, str, str]:
        site, account_id = stripe_world.connected_site(verified=verified)
        token = site.api.headers["Authorization"].removeprefix("Bearer ")
        return Creator(stripe_world, token), site.tenant.id, account_id

    return sign_in


def test_the_stripe_card_has_the_offer_form_once_connected(stripe_world: StripeWorld, creator) -> None:
    browser, _, _ = creator()
    page = browser.page()
    form = re.search(r'<section class="card-form" id="stripe_connect-form-create_offer".*?</section>', page, re.S)
    assert form, "the Stripe card shows the form"
    assert "Create a paid offer" in form.group(0) and "Create offer</button>" in form.group(0)
    kinds = re.search(r'name="kind".*?</select>', form.group(0), re.S)
    assert kinds and re.findall(r'<option value="(\w+)"', kinds.group(0)) == list(KINDS)
    assert "Membership (billed monthly)" in kinds.group(0)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "each label finds its own input (a field named title is not the heading)"


def test_a_creator_creates_an_offer_on_the_page_and_a_buyer_pays_through_its_link(
        stripe_world: StripeWorld, creator) -> None:
    browser, tenant_id, account_id = creator()

    response = browser.post(FORM, OFFER)

    assert response.status_code == 303 and response.headers["location"] == "/settings/integrations#flash"
    message, link = browser.flash()
    assert message == ("Done. Offer “Watercolour basics” created (USD 49.90). Its checkout link is in Your offers "
                       "below: share it with your buyers.")
    assert link is not None and link[1] == "Open its checkout page"
    checkout = re.fullmatch(rf"{stripe_world.host_url}/integrations/{NAME}/buy/{tenant_id}/(price_\w+)", link[0])
    assert checkout, link
    price = sandbox_client(stripe_world).v1.prices.retrieve(checkout.group(1), options={"stripe_account": account_id})
    assert (price.unit_amount, price.currency, price.recurring) == (4990, "usd", None)
    session_id = stripe_world.buy(link[0])
    assert stripe_world.sandbox.sandbox.session_extras[session_id]["payment_intent_data"]["application_fee_amount"]


def test_a_membership_from_the_form_is_billed_monthly(stripe_world: StripeWorld, creator) -> None:
    browser, _, account_id = creator()

    browser.post(FORM, {**OFFER, "title": "Studio club", "kind": "membership", "price": "15"})

    message, link = browser.flash()
    assert "(USD 15.00 a month)" in message and link is not None
    price_id = link[0].rsplit("/", 1)[-1]
    price = sandbox_client(stripe_world).v1.prices.retrieve(price_id, options={"stripe_account": account_id})
    assert price.recurring.interval == "month"


def test_while_the_account_cannot_take_charges_the_form_is_locked_saying_why(stripe_world: StripeWorld,
                                                                            creator) -> None:
    browser, _, _ = creator(verified=False)
    page = browser.page()
    section = page.split('id="stripe_connect-form-create_offer"', 1)[1].split("</section>", 1)[0]
    assert "You can create offers once your Stripe account can accept payments" in section
    assert f'action="{FORM}"' not in section, "no form to fill in that can only fail"


def test_a_post_from_a_stale_page_while_charges_are_disabled_is_told_what_to_do_with_the_dashboard_link(
        stripe_world: StripeWorld, creator) -> None:
    browser, _, account_id = creator(verified=False)

    browser.post(FORM, OFFER)

    message, link = browser.flash()
    assert message.startswith("That did not work. Your Stripe account cannot accept payments yet, so no offer was "
                              "created.")
    assert "a bank account for payouts" in message
    assert link == (f"{stripe_world.sandbox.url}/dashboard/{account_id}", "Manage in Stripe dashboard")
    writes = [r for r in stripe_world.requests() if r["method"] == "POST" and r["stripe_account"] == account_id]
    assert writes == []


@pytest.mark.parametrize(("change", "complaint"), [
    ({"price": "49.999"}, "Price: enter a number with at most two decimals"),
    ({"price": "free"}, "Price: enter a number with at most two decimals"),
    ({"price": "0"}, "Price: enter a number with at most two decimals"),
    ({"price": "1e30"}, "Price: enter a number with at most two decimals"),
    ({"price": "0.01"}, "Price: enter at least USD 0.50 and at most USD 999,999.99 (what Stripe charges in USD)."),
    ({"price": "99999999999"}, "Price: enter at least USD 0.50 and at most USD 999,999.99"),
    ({"price": "0.29", "currency": "gbp"}, "Price: enter at least GBP 0.30 and at most GBP 999,999.99"),
    ({"success_url": "yoursite.com/welcome"}, "After paying, send buyers to: enter a full web address"),
    ({"kind": "lesson"}, "What you sell: 'lesson' is not one of the choices"),
    ({"title": " "}, "Fill in Title (required for “Create a paid offer”)."),
])
def test_a_mistake_in_the_form_is_named_and_nothing_is_created(stripe_world: StripeWorld, creator,
                                                                change: dict[str, str], complaint: str) -> None:
    browser, _, account_id = creator()

    browser.post(FORM, {**OFFER, **change})

    message, link = browser.flash()
    assert complaint in message and link is None
    assert [r for r in stripe_world.requests() if r["method"] == "POST" and r["stripe_account"] == account_id] == []


def test_the_tenant_api_submits_the_same_form(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()

    answer = site.api.post(f"/api/integrations/{NAME}/forms/create_offer", json=OFFER)

    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result["link_label"] == "Open its checkout page"
    assert result["link_url"].startswith(f"{stripe_world.host_url}/integrations/{NAME}/buy/{site.tenant.id}/price_")


def test_the_form_says_what_it_made_for_a_host_app_that_keeps_the_offer(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()

    result = site.api.post(f"/api/integrations/{NAME}/forms/create_offer", json=OFFER).json()["result"]

    offer = result["data"]
    assert offer["id"].startswith("price_") and offer["id"] == offer["price_id"]
    assert offer["checkout_url"] == result["link_url"]
    assert (offer["title"], offer["kind"], offer["amount"], offer["currency"]) == (
        OFFER["title"], OFFER["kind"], 4990, OFFER["currency"])


def test_the_forms_kinds_are_the_offers_kinds() -> None:
    assert [c.value for c in KIND_CHOICES] == list(KINDS)


@pytest.mark.parametrize(("price", "currency", "amount"), [
    ("49", "usd", 4900), ("49.9", "usd", 4990), ("49.90", "usd", 4990), ("0.5", "usd", 50),
    ("1,000", "usd", 100000), ("999999.99", "usd", 99999999), ("0.30", "gbp", 30), ("5000", "jpy", 5000),
])
def test_prices_become_the_smallest_unit_of_their_currency(price: str, currency: str, amount: int) -> None:
    assert amount_from_price(price, currency) == amount
