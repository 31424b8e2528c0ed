"""Stored Stripe events → connection changes and domain events (payloads are the sandbox's real events)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import stripe
from stripe_kit import CLIENT_ID, NAME, SECRET_KEY, Site, StripeWorld

from core import ConnectError, ConnectionState, IgnoreEvent, IntegrationContext, NewDomainEvent, StoredEvent
from plugins.stripe_connect import STRIPE_API_VERSION


def stored(payload: dict[str, Any]) -> StoredEvent:
    return StoredEvent(id="inb_test", integration=NAME, external_id=payload["id"], type=payload["type"],
                       payload=payload, account=payload.get("account"), livemode=payload["livemode"])


def handle(world: StripeWorld, site: Site | None, payload: dict[str, Any]) -> tuple[list[Any], IntegrationContext]:
    tenant = site.tenant if site else None
    connection = world.host.connections.find(site.tenant.id, NAME) if site else None
    ctx = world.host.context(NAME, tenant=tenant, connection=connection)
    result = world.host.plugins.call(NAME, "handle_event", ctx=ctx, event=stored(payload))
    return list(result or []), ctx


def latest(world: StripeWorld, event_type: str, account: str) -> dict[str, Any]:
    events = world.events(event_type, account)
    assert events, f"the sandbox sent no {event_type} for {account}"
    return events[-1]


def validated(world: StripeWorld, event: NewDomainEvent) -> dict[str, Any]:
    """The payload as the host writes it: checked against the catalogue's schema for its type."""
    return world.host.event_types.validate(event.type, event.data)


def paid_purchase(world: StripeWorld) -> tuple[Site, str, dict[str, Any]]:
    site, account_id = world.connected_site()
    offer = site.create_offer().json()["offer"]
    world.buy(offer["checkout_url"], email="grace@example.com")
    return site, account_id, offer


def platform_client(world: StripeWorld) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, client_id=CLIENT_ID, stripe_version=STRIPE_API_VERSION,
                               base_addresses={"api": world.sandbox.url, "connect": world.sandbox.url})


# -- routing -------------------------------------------------------------------------------------------------------
def test_an_event_for_an_account_no_site_connected_is_ignored_with_a_reason(stripe_world: StripeWorld) -> None:
    payload = {"id": "evt_1", "type": "account.updated", "account": "acct_unknown", "livemode": False,
               "data": {"object": {}}}

    with pytest.raises(IgnoreEvent, match="No site has Stripe account acct_unknown connected"):
        handle(stripe_world, None, payload)


def test_a_live_event_never_touches_a_test_connection(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    payload = {**latest(stripe_world, "account.application.authorized", account_id), "livemode": True}

    with pytest.raises(IgnoreEvent, match="live-mode event never touches a test connection"):
        handle(stripe_world, site, payload)


def test_an_event_type_without_a_handler_is_acknowledged_with_nothing_to_do(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()

    results, ctx = handle(stripe_world, site, latest(stripe_world, "account.application.authorized", account_id))

    assert results == []
    assert ctx.effects.status is None


# -- the connection ----------------------------------------------------------------------------------------------
def test_account_updated_refetches_the_account_instead_of_trusting_the_snapshot(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site(verified=False)
    stripe_world.control("POST", f"/accounts/{account_id}/verify")
    stale = copy.deepcopy(latest(stripe_world, "account.updated", account_id))
    stale["data"]["object"]["charges_enabled"] = False  # an older snapshot arriving late

    _, ctx = handle(stripe_world, site, stale)

    assert ctx.effects.status is not None
    assert ctx.effects.status.state is ConnectionState.CONNECTED


def test_account_updated_with_requirements_due_is_action_required(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    stripe_world.control("POST", f"/accounts/{account_id}/requirements", currently_due=["individual.dob.day"],
                         past_due=["individual.dob.day"])

    _, ctx = handle(stripe_world, site, latest(stripe_world, "account.updated", account_id))

    assert ctx.effects.status is not None
    assert ctx.effects.status.state is ConnectionState.ACTION_REQUIRED
    assert ctx.effects.status.reason == "Stripe needs one more detail from you before you can accept payments."
    assert ctx.effects.status.details["past_due"] == ["individual.dob.day"], "the card lists it in plain words"


def test_account_updated_during_a_stripe_outage_raises_so_the_event_is_retried(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site(verified=False)
    stripe_world.control("POST", f"/accounts/{account_id}/verify")
    update = latest(stripe_world, "account.updated", account_id)
    stripe_world.sandbox.stop()

    with pytest.raises(ConnectError, match="Stripe could not be reached"):
        handle(stripe_world, site, update)
    assert stripe_world.host.plugins.records[NAME].runtime_errors == []  # an outage is not a plugin bug


def test_account_updated_after_access_was_revoked_is_needs_reauth(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    stripe_world.control("POST", f"/accounts/{account_id}/requirements", currently_due=["business_profile.url"])
    update = latest(stripe_world, "account.updated", account_id)
    stripe_world.control("POST", f"/accounts/{account_id}/deauthorize")

    _, ctx = handle(stripe_world, site, update)

    assert ctx.effects.status is not None
    assert ctx.effects.status.state is ConnectionState.NEEDS_REAUTH


def test_a_deauthorization_in_stripe_disconnects_the_site(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    stripe_world.control("POST", f"/accounts/{account_id}/deauthorize")

    _, ctx = handle(stripe_world, site, latest(stripe_world, "account.application.deauthorized", account_id))

    assert ctx.effects.disconnected_reason is not None
    assert "disconnected this site from your Stripe account" in ctx.effects.disconnected_reason


def test_a_late_deauthorization_after_reconnecting_is_ignored(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    stripe_world.control("POST", f"/accounts/{account_id}/deauthorize")
    stripe_world.control("POST", f"/accounts/{account_id}/connect")

    with pytest.raises(IgnoreEvent, match="connected again"):
        handle(stripe_world, site, latest(stripe_world, "account.application.deauthorized", account_id))


# -- money ---------------------------------------------------------------------------------------------------------
def test_a_paid_checkout_is_a_purchase_with_offer_buyer_amount_and_generic_provider_references(
        stripe_world: StripeWorld) -> None:
    site, account_id, offer = paid_purchase(stripe_world)
    completed = latest(stripe_world, "checkout.session.completed", account_id)
    charge = latest(stripe_world, "charge.succeeded", account_id)["data"]["object"]

    [purchase], _ = handle(stripe_world, site, completed)

    assert purchase.type == "purchase.completed"
    data = validated(stripe_world, purchase)
    assert data["offer_id"] == offer["id"]
    assert data["offer_title"] == "Watercolour basics"
    assert data["buyer_email"] == "grace@example.com"
    assert (data["amount"], data["currency"]) == (4900, "usd")
    assert (data["provider"], data["provider_account"], data["livemode"]) == ("stripe", account_id, False)
    assert data["payment_reference"] == charge["id"], "the charge: what Stripe's refunds and disputes name"
    assert data["provider_refs"] == {"checkout_session": completed["data"]["object"]["id"],
                                     "payment_intent": charge["payment_intent"]}


def test_a_completed_but_unpaid_checkout_is_not_a_purchase_yet(stripe_world: StripeWorld) -> None:
    site, account_id, _ = paid_purchase(stripe_world)
    unpaid = copy.deepcopy(latest(stripe_world, "checkout.session.completed", account_id))
    unpaid["data"]["object"]["payment_status"] = "unpaid"

    results, _ = handle(stripe_world, site, unpaid)

    assert results == []


def test_a_refunded_charge_is_a_refunded_purchase(stripe_world: StripeWorld) -> None:
    site, account_id, offer = paid_purchase(stripe_world)
    charge_id = latest(stripe_world, "charge.succeeded", account_id)["data"]["object"]["id"]
    platform_client(stripe_world).v1.refunds.create({"charge": charge_id}, {"stripe_account": account_id})

    [refund], _ = handle(stripe_world, site, latest(stripe_world, "charge.refunded", account_id))

    assert refund.type == "purchase.refunded"
    data = validated(stripe_world, refund)
    assert data["payment_reference"] == charge_id, "the same reference as the purchase it refunds"
    assert (data["amount_refunded"], data["offer_id"]) == (4900, offer["id"])
    assert (data["provider"], data["provider_account"], data["livemode"]) == ("stripe", account_id, False)
    assert data["provider_refs"]["payment_intent"].startswith("pi_")


def test_disputes_are_recorded_as_opened_and_closed(stripe_world: StripeWorld) -> None:
    site, account_id, _ = paid_purchase(stripe_world)
    charge_id = latest(stripe_world, "charge.succeeded", account_id)["data"]["object"]["id"]
    dispute = stripe_world.control("POST", f"/charges/{charge_id}/dispute", reason="fraudulent")
    stripe_world.control("POST", f"/disputes/{dispute['id']}/close", outcome="won")

    [opened], _ = handle(stripe_world, site, latest(stripe_world, "charge.dispute.created", account_id))
    [closed], _ = handle(stripe_world, site, latest(stripe_world, "charge.dispute.closed", account_id))

    opened_data, closed_data = validated(stripe_world, opened), validated(stripe_world, closed)
    assert (opened.type, opened_data["reason"], opened_data["payment_reference"]) == (
        "dispute.opened", "fraudulent", charge_id)
    assert (opened_data["dispute_id"], opened_data["provider"], opened_data["provider_account"]) == (
        dispute["id"], "stripe", account_id)
    assert opened_data["provider_refs"]["payment_intent"].startswith("pi_")
    assert (closed.type, closed_data["status"], closed_data["payment_reference"]) == (
        "dispute.closed", "won", charge_id)


@pytest.mark.parametrize("outcome", ["paid", "failed"])
def test_payouts_become_payout_events(stripe_world: StripeWorld, outcome: str) -> None:
    site, account_id = stripe_world.connected_site()
    payout = stripe_world.control("POST", f"/accounts/{account_id}/payouts", amount=120000)
    stripe_world.control("POST", f"/payouts/{payout['id']}/{outcome}")

    [event], _ = handle(stripe_world, site, latest(stripe_world, f"payout.{outcome}", account_id))

    assert event.type == f"payout.{outcome}"
    data = validated(stripe_world, event)
    assert (data["payout_id"], data["amount"], data["status"]) == (payout["id"], 120000, outcome)
    assert (data["provider"], data["provider_account"], data["livemode"]) == ("stripe", account_id, False)
    if outcome == "failed":
        assert data["failure_message"]


def test_a_late_purchase_from_an_accounts_previous_site_never_reaches_the_site_that_connected_it_since(
        stripe_world: StripeWorld) -> None:
    # The account moved: site A sold through it, disconnected, and site B connected the same account.
    # A's late (or synced) checkout event is routed by account to B's connection: it is not B's sale.
    site_a, account_id, _ = paid_purchase(stripe_world)
    completed = latest(stripe_world, "checkout.session.completed", account_id)
    charge_id = latest(stripe_world, "charge.succeeded", account_id)["data"]["object"]["id"]
    platform_client(stripe_world).v1.refunds.create({"charge": charge_id}, {"stripe_account": account_id})
    refunded = latest(stripe_world, "charge.refunded", account_id)
    site_a.disconnect()
    site_b = stripe_world.site("Bea's Bakery")
    assert site_b.connect_oauth(email="ada@example.com").json()["code"] == "connected"
    assert stripe_world.host.connections.find(site_b.tenant.id, NAME).external_id == account_id

    for event in (completed, refunded):
        with pytest.raises(IgnoreEvent, match="another site"):
            handle(stripe_world, site_b, event)
