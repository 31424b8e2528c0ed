"""The offers API: listed from Stripe (paged as Stripe pages), archived there, and Stripe's amount limits first."""

from __future__ import annotations

import httpx
import pytest
from stripe_kit import NAME, StripeWorld
from test_stripe_offers import sandbox_client

OFFERS = f"/api/{NAME}/offers"
FIELDS = {"id", "title", "kind", "amount", "currency", "interval", "active", "checkout_url", "created",
          "product_id", "price_id", "livemode"}


def test_offers_are_listed_newest_first_a_page_at_a_time(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    made = [site.create_offer(title=f"Course {n}").json()["offer"] for n in range(3)]

    first = site.api.get(OFFERS, params={"limit": 2}).json()

    assert first["object"] == "list" and first["url"] == OFFERS and first["has_more"] is True
    assert [o["id"] for o in first["data"]] == [made[2]["id"], made[1]["id"]]
    assert set(first["data"][0]) == FIELDS
    rest = site.api.get(OFFERS, params={"limit": 2, "starting_after": first["data"][-1]["id"]}).json()
    assert [o["id"] for o in rest["data"]] == [made[0]["id"]] and rest["has_more"] is False
    assert rest["data"][0] == {**made[0]}, "the list says what creating said"


def test_only_the_sites_own_offers_are_listed(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    mine = site.create_offer().json()["offer"]
    client = sandbox_client(stripe_world)
    by_hand = client.v1.products.create({"name": "Made in Stripe"}, options={"stripe_account": account_id})
    client.v1.prices.create({"product": by_hand.id, "unit_amount": 900, "currency": "usd"},
                            options={"stripe_account": account_id})
    other, _ = stripe_world.connected_site("bob@example.com", name="Bob's Bakery")
    other.create_offer(title="Bread")

    assert [o["id"] for o in site.api.get(OFFERS).json()["data"]] == [mine["id"]]


@pytest.mark.parametrize(("params", "field"), [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
                                               ({"starting_after": "price_unknown"}, "starting_after")])
def test_a_bad_page_request_says_which_parameter(stripe_world: StripeWorld, params, field) -> None:
    site, _ = stripe_world.connected_site()
    site.create_offer()

    answer = site.api.get(OFFERS, params=params)

    assert answer.status_code == 400 and answer.json()["error"]["field"] == field


def test_archiving_stops_the_link_from_selling_and_the_list_says_so(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    offer = site.create_offer().json()["offer"]

    archived = site.api.post(f"{OFFERS}/{offer['id']}/archive")

    assert archived.status_code == 200 and archived.json()["offer"]["active"] is False
    assert site.api.post(f"{OFFERS}/{offer['id']}/archive").json()["offer"]["active"] is False, "idempotent"
    product = sandbox_client(stripe_world).v1.products.retrieve(offer["product_id"],
                                                                options={"stripe_account": account_id})
    assert product.active is False, "Stripe is the store of record"
    assert site.api.get(OFFERS).json()["data"][0]["active"] is False
    page = httpx.get(offer["checkout_url"], timeout=20)
    assert page.status_code == 410 and "This offer is no longer on sale" in page.text
    as_json = httpx.get(offer["checkout_url"], headers={"Accept": "application/json"}, timeout=20)
    assert as_json.status_code == 410 and as_json.json()["error"]["code"] == "offer_inactive"
    assert site.api.post(f"{OFFERS}/price_unknown/archive").status_code == 404


@pytest.mark.parametrize(("body", "limits"), [
    ({"amount": 49}, "enter at least USD 0.50 and at most USD 999,999.99"),
    ({"amount": 100_000_000}, "enter at least USD 0.50 and at most USD 999,999.99"),
    ({"amount": 29, "currency": "gbp"}, "enter at least GBP 0.30 and at most GBP 999,999.99"),
    ({"amount": 49, "currency": "jpy"}, "enter at least JPY 50 and at most JPY 99,999,999"),
    ({"amount": 17_499, "currency": "huf"}, "enter at least HUF 175.00 and at most HUF 999,999.99"),
])
def test_an_amount_stripe_would_not_charge_is_refused_naming_the_limits(stripe_world: StripeWorld, body,
                                                                        limits) -> None:
    site, account_id = stripe_world.connected_site()

    answer = site.create_offer(**body)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "amount_out_of_range" and error["field"] == "amount" and limits in error["message"]
    assert [r for r in stripe_world.requests() if r["method"] == "POST" and r["stripe_account"] == account_id] == []


def test_the_limits_are_the_ones_stripe_applies(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    for amount in (50, 99_999_999):
        offer = site.create_offer(amount=amount).json()["offer"]
        opened = httpx.post(offer["checkout_url"], headers={"Accept": "application/json"}, timeout=20)
        assert opened.status_code == 200, opened.text


def test_a_currency_without_known_limits_is_refused(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()

    error = site.create_offer(currency="xts").json()["error"]

    assert error["code"] == "currency_unsupported" and error["field"] == "currency" and "USD" in error["message"]
