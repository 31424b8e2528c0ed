"""Paid offers on the creator's own account, and checkout as a direct charge with the platform's fee."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from stripe_kit import CLIENT_ID, SECRET_KEY, StripeWorld

from plugins.stripe_connect import STRIPE_API_VERSION, application_fee
from plugins.stripe_connect.offers import checkout_session_params


def sandbox_client(world: StripeWorld) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, client_id=CLIENT_ID, stripe_version=STRIPE_API_VERSION,
                               base_addresses={"api": world.sandbox.url, "connect": world.sandbox.url})


def session_of(world: StripeWorld, account_id: str, session_id: str) -> dict[str, Any]:
    return sandbox_client(world).v1.checkout.sessions.retrieve(
        session_id, options={"stripe_account": account_id}).to_dict()


def test_creating_an_offer_makes_a_product_and_price_on_the_creators_account(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()

    answer = site.create_offer()

    assert answer.status_code == 201, answer.text
    offer = answer.json()["offer"]
    assert offer["id"] == offer["price_id"] and offer["price_id"].startswith("price_")
    buy_path = f"/integrations/stripe_connect/buy/{site.tenant.id}/{offer['id']}"
    assert offer["checkout_url"] == f"{stripe_world.host_url}{buy_path}", "the link is the offer's buyer page"
    assert offer["active"] is True and offer["created"] > 0 and offer["amount"] == 4900
    price = sandbox_client(stripe_world).v1.prices.retrieve(offer["price_id"],
                                                           options={"stripe_account": account_id})
    assert (price.unit_amount, price.currency, price.product) == (4900, "usd", offer["product_id"])


def test_a_membership_offer_has_a_recurring_price(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()

    offer = site.create_offer(kind="membership", title="Studio club", amount=1500, interval="year").json()["offer"]

    price = sandbox_client(stripe_world).v1.prices.retrieve(offer["price_id"],
                                                           options={"stripe_account": account_id})
    assert price.recurring.interval == "year"


def test_checkout_is_a_direct_charge_with_the_application_fee_and_the_offer_in_metadata(
        stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    offer = site.create_offer().json()["offer"]

    opened = httpx.post(offer["checkout_url"], headers={"Accept": "application/json"}, timeout=20)

    assert opened.status_code == 200, opened.text
    session_id = opened.json()["url"].rsplit("/", 1)[-1]
    session = session_of(stripe_world, account_id, session_id)
    assert session["mode"] == "payment"
    assert session["metadata"]["intellectra_offer_id"] == offer["id"]
    assert session["success_url"] == "https://ada.example/thanks"
    extras = stripe_world.sandbox.sandbox.session_extras[session_id]
    assert extras["payment_intent_data"]["application_fee_amount"] == 490
    created = [r for r in stripe_world.requests() if r["path"] == "/v1/checkout/sessions"]
    assert [r["stripe_account"] for r in created] == [account_id]


def test_checkout_leaves_payment_methods_to_the_creators_dashboard(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    offer = site.create_offer().json()["offer"]

    params = checkout_session_params(stripe_world.host.plugins.get("stripe_connect").config, site.tenant,
                                    {"id": offer["id"], "unit_amount": 4900, "recurring": None},
                                    {"name": "Watercolour basics", "metadata": {}}, None)

    assert "payment_method_types" not in params


def test_a_membership_checkout_takes_the_fee_as_a_subscription_percentage(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    offer = site.create_offer(kind="membership", amount=1500).json()["offer"]

    url = httpx.post(offer["checkout_url"], headers={"Accept": "application/json"}, timeout=20).json()["url"]

    extras = stripe_world.sandbox.sandbox.session_extras[url.rsplit("/", 1)[-1]]
    assert extras["subscription_data"]["application_fee_percent"] == 10
    assert session_of(stripe_world, account_id, url.rsplit("/", 1)[-1])["mode"] == "subscription"


def test_an_account_that_cannot_take_charges_gets_409_naming_what_stripe_needs_and_nothing_is_created(
        stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site(verified=False)

    answer = site.create_offer()

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "charges_disabled"
    assert "no offer was created" in error["message"]
    assert "a bank account for payouts" in error["message"]
    assert error["action_url"] == f"{stripe_world.sandbox.url}/dashboard/{account_id}"
    writes = [r for r in stripe_world.requests() if r["method"] == "POST" and r["stripe_account"] == account_id]
    assert writes == []


@pytest.mark.parametrize(("body", "complaint"), [
    ({"kind": "lesson"}, "kind must be one of"),
    ({"amount": 0}, "amount must be a whole number"),
    ({"success_url": "ftp://nope"}, "success_url must be an http(s) URL"),
    ({"kind": "course", "interval": "month"}, "Only a membership has an interval"),
    ({"colour": "blue"}, "Unknown field(s) colour"),
    ({"cancel_url": 5}, "cancel_url must be a string"),
    ({"description": ["a", "list"]}, "description must be a string"),
])
def test_an_invalid_offer_is_refused_with_400_saying_what_is_wrong(stripe_world: StripeWorld, body: dict[str, Any],
                                                                   complaint: str) -> None:
    site, _ = stripe_world.connected_site()

    answer = site.create_offer(**body)

    assert answer.status_code == 400
    assert complaint in answer.json()["error"]["message"]


def test_creating_an_offer_without_a_stripe_connection_is_409(stripe_world: StripeWorld) -> None:
    answer = stripe_world.site().create_offer()

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_connected"


def test_a_checkout_link_for_an_unknown_offer_is_404(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()

    link = f"{stripe_world.host_url}/integrations/stripe_connect/buy/{site.tenant.id}/price_nope"

    answer = httpx.get(link, headers={"Accept": "application/json"}, timeout=20)
    page = httpx.get(link, timeout=20)

    assert answer.status_code == 404
    assert answer.json()["error"]["message"].startswith("This offer is not available")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), "buyers get a page"
    assert "This offer is not available" in page.text and "offer_not_found" not in page.text


def test_the_fee_is_the_configured_percentage_rounded_half_up() -> None:
    assert application_fee(4900, 10) == 490
    assert application_fee(995, 2.5) == 25
    assert application_fee(4900, 0) == 0
