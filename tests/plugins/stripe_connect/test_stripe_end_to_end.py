"""End to end over real HTTP: the sandbox sends signed events to the host, the pipeline applies them once."""

from __future__ import annotations

from stripe_kit import NAME, StripeWorld, wait_until

from core.testing import Recorder


def purchases(world: StripeWorld) -> list[object]:
    return list(Recorder(world.host).domain_events("purchase.completed"))


def sell_once(world: StripeWorld) -> tuple[str, dict[str, object]]:
    """A creator connects and creates an offer; a buyer pays on the sandbox's checkout page."""
    site, account_id = world.connected_site()
    offer = site.create_offer().json()["offer"]
    world.buy(offer["checkout_url"], email="grace@example.com")
    [stored] = world.wait_for_stored("checkout.session.completed", account_id)
    return str(stored.external_id), offer


async def test_a_paid_checkout_becomes_exactly_one_purchase(stripe_world: StripeWorld) -> None:
    _, offer = sell_once(stripe_world)

    await stripe_world.host.pipeline.run_once()

    [purchase] = purchases(stripe_world)
    assert purchase.data["offer_id"] == offer["id"]  # type: ignore[attr-defined]
    assert purchase.data["buyer_email"] == "grace@example.com"  # type: ignore[attr-defined]


async def test_the_same_event_sent_three_times_is_one_purchase(stripe_world: StripeWorld) -> None:
    event_id, _ = sell_once(stripe_world)

    stripe_world.control("POST", f"/events/{event_id}/resend", times=3)
    wait_until(lambda: len([a for a in stripe_world.attempts(event_id) if a["trigger"] == "resend"]) == 3,
               "three resent deliveries")
    await stripe_world.host.pipeline.run_once()

    assert len(purchases(stripe_world)) == 1
    assert all(a["status_code"] == 200 for a in stripe_world.attempts(event_id))
    assert len(stripe_world.stored_events("checkout.session.completed")) == 1


async def test_two_copies_arriving_at_the_same_moment_are_one_purchase(stripe_world: StripeWorld) -> None:
    event_id, _ = sell_once(stripe_world)

    stripe_world.control("POST", f"/events/{event_id}/resend", times=2, concurrent=True)
    wait_until(lambda: len([a for a in stripe_world.attempts(event_id) if a["trigger"] == "resend"]) == 2,
               "two concurrent deliveries")
    await stripe_world.host.pipeline.run_once()

    assert len(purchases(stripe_world)) == 1
    assert all(a["status_code"] == 200 for a in stripe_world.attempts(event_id))


async def test_verification_in_stripe_reaches_the_site_through_account_updated(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site(verified=False)
    assert site.connection()["state"] == "action_required"

    stripe_world.control("POST", f"/accounts/{account_id}/verify")
    stripe_world.wait_for_stored("account.updated", account_id)
    await stripe_world.host.pipeline.run_once()

    assert site.connection()["state"] == "connected"
    [event] = Recorder(stripe_world.host).domain_events("integration.connected", tenant_id=site.tenant.id)[-1:]
    assert event.data["integration"] == NAME


async def test_disconnecting_in_the_stripe_dashboard_disconnects_the_site(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()

    stripe_world.browser.post(f"/dashboard/{account_id}/disconnect")
    stripe_world.wait_for_stored("account.application.deauthorized", account_id)
    await stripe_world.host.pipeline.run_once()

    connection = site.connection()
    assert connection["state"] == "disconnected"
    assert "disconnected this site from your Stripe account" in connection["reason"]
    assert Recorder(stripe_world.host).domain_events("integration.disconnected", tenant_id=site.tenant.id)
