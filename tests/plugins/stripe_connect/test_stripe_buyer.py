"""The buyer page behind a checkout link: what is sold and a Buy button; a session only when Buy is pressed."""

from __future__ import annotations

import re

import httpx
from stripe_kit import NAME, StripeWorld

from plugins.stripe_connect.buyer import BUYS_PER_MINUTE

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def sessions(world: StripeWorld) -> int:
    return len([r for r in world.requests() if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"])


def test_the_link_shows_the_offer_and_creates_nothing_however_often_it_is_opened(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    offer = site.create_offer(title="Watercolour basics", amount=4990).json()["offer"]

    for _ in range(5):
        page = httpx.get(offer["checkout_url"], timeout=20)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")

    assert "Watercolour basics" in page.text and "USD 49.90" in page.text and ">Buy</button>" in page.text
    assert "Ada&#39;s Studio" in page.text, "buyers see who sells it"
    assert sessions(stripe_world) == 0, "GET never creates a Checkout Session"
    as_json = httpx.get(offer["checkout_url"], headers={"Accept": "application/json"}, timeout=20).json()
    assert as_json["offer"]["title"] == "Watercolour basics" and as_json["offer"]["amount"] == 4990


def test_buy_creates_one_session_and_sends_the_buyer_to_stripe(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    offer = site.create_offer().json()["offer"]
    with httpx.Client(timeout=20, headers={"Origin": stripe_world.host_url}) as buyer:  # as a browser posts
        token = CSRF.search(buyer.get(offer["checkout_url"]).text).group(1)  # type: ignore[union-attr]
        bought = buyer.post(offer["checkout_url"], data={"csrf_token": token})

    assert bought.status_code == 303 and bought.headers["location"].startswith(f"{stripe_world.sandbox.url}/checkout/")
    assert sessions(stripe_world) == 1


def test_buying_is_limited_per_visitor_and_offer(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    offer, other = (site.create_offer(title=t).json()["offer"] for t in ("One", "Two"))

    answers = [httpx.post(offer["checkout_url"], headers={"Accept": "application/json"}, timeout=20)
               for _ in range(BUYS_PER_MINUTE + 1)]

    assert [a.status_code for a in answers[:-1]] == [200] * BUYS_PER_MINUTE
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0
    assert sessions(stripe_world) == BUYS_PER_MINUTE
    assert httpx.post(other["checkout_url"], headers={"Accept": "application/json"}, timeout=20).status_code == 200


def test_an_old_checkout_link_leads_to_the_buyer_page(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    offer = site.create_offer().json()["offer"]

    old = httpx.get(f"{stripe_world.host_url}/api/{NAME}/checkout/{site.tenant.id}/{offer['id']}", timeout=20)

    assert old.status_code == 308 and old.headers["location"] == offer["checkout_url"]
    assert sessions(stripe_world) == 0


def test_a_link_of_a_site_without_stripe_is_a_404_page(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()

    page = httpx.get(f"{stripe_world.host_url}/integrations/{NAME}/buy/{site.tenant.id}/price_x", timeout=20)

    assert page.status_code == 404 and "This offer is not available" in page.text
