"""Connecting, refreshing and disconnecting a creator's Stripe account, against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from stripe_kit import NAME, SECRET_KEY, Site, StripeWorld, form_action, query_of

from core import Connected
from core.store.tables import connections
from plugins.stripe_connect import STRIPE_API_VERSION


def stored_secrets_column(world: StripeWorld, site: Site) -> Any:
    with world.host.store.read() as c:
        return c.execute(select(connections.c.secrets).where(connections.c.tenant_id == site.tenant.id)).scalar()


# -- OAuth: an existing account ----------------------------------------------------------------------------------
def test_the_authorize_url_asks_stripe_for_read_write_access_with_the_state(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    url = site.start_connect("oauth")
    assert url.startswith(f"{stripe_world.sandbox.url}/oauth/authorize?")
    query = query_of(url)
    assert query["client_id"] == stripe_world.sandbox.sandbox.client_id
    assert query["scope"] == "read_write"
    assert query["response_type"] == "code"
    assert query["stripe_landing"] == "login"
    assert query["redirect_uri"] == f"{stripe_world.host_url}/integrations/{NAME}/callback"
    assert query["state"].startswith("cst_")


def test_connecting_an_existing_account_stores_its_id_mode_and_encrypted_tokens(stripe_world: StripeWorld) -> None:
    account = stripe_world.new_account("ada@example.com", verified=True)
    site = stripe_world.site()

    answer = site.connect_oauth(email="ada@example.com")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": "success", "code": "connected", "message": "Stripe is connected."}
    connection = site.connection()
    assert connection["state"] == "connected"
    assert connection["external_id"] == account["id"]
    assert connection["livemode"] is False
    stored = stripe_world.host.connections.find(site.tenant.id, NAME)
    assert stored is not None
    tokens = stripe_world.host.connections.secrets_of(stored.id)
    assert tokens["access_token"].startswith("sk_test_") and tokens["refresh_token"].startswith("rt_")
    assert tokens["access_token"] not in str(stored_secrets_column(stripe_world, site))


def test_every_stripe_api_call_pins_the_api_version(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    stripe_world.site().connect_oauth(email="ada@example.com")

    versions = {r["stripe_version"] for r in stripe_world.requests()}

    assert versions == {STRIPE_API_VERSION}


def test_an_account_that_needs_verification_is_action_required_with_the_reason_and_dashboard(
        stripe_world: StripeWorld) -> None:
    site = stripe_world.site()

    answer = site.connect_oauth(email="new@example.com", existing=False, status="unverified")

    assert answer.json()["code"] == "action_required"
    connection = site.connection()
    assert connection["state"] == "action_required"
    assert connection["reason"].startswith("Stripe needs ")
    assert connection["reason"].endswith(" more details from you before you can accept payments.")
    assert "external_account" in connection["data"]["currently_due"], "what exactly is due, for the card's list"
    assert connection["action_url"] == f"{stripe_world.sandbox.url}/dashboard/{connection['external_id']}"


def test_a_verified_account_becomes_connected_when_the_status_is_refreshed(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    site.connect_oauth(email="new@example.com", existing=False, status="unverified")
    account_id = site.connection()["external_id"]

    stripe_world.control("POST", f"/accounts/{account_id}/verify")
    refreshed = site.refresh()

    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["connection"]["state"] == "connected"
    assert refreshed.json()["connection"]["reason"] == "Ready to accept payments."


def test_cancelling_on_stripe_says_so_and_stores_no_connection(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    site = stripe_world.site()

    answer = site.callback(site.authorize(email="ada@example.com", decision="deny"))

    assert answer.status_code == 400
    assert answer.json()["code"] == "access_denied"
    assert answer.json()["result"] == "info", "a choice the creator made, said plainly rather than as an error"
    assert answer.json()["message"] == ("You cancelled on Stripe's page, so nothing was connected. You can connect "
                                        "Stripe whenever you are ready.")
    assert "Press Connect" not in answer.json()["message"], "no button that does not exist"
    assert stripe_world.host.connections.find(site.tenant.id, NAME) is None


def test_a_reused_authorization_code_is_refused_with_a_clear_message(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    first, second = stripe_world.site("First"), stripe_world.site("Second")
    code = query_of(first.authorize(email="ada@example.com"))["code"]
    first.callback(f"{stripe_world.host_url}/integrations/{NAME}/callback?code={code}&"
                   f"state={query_of(first.start_connect())['state']}")

    state = query_of(second.start_connect())["state"]
    answer = second.callback(f"{stripe_world.host_url}/integrations/{NAME}/callback?code={code}&state={state}")

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_grant"
    assert "already used or has expired" in answer.json()["message"]
    assert stripe_world.host.connections.find(second.tenant.id, NAME) is None


def test_a_forged_state_is_refused_before_stripe_is_asked(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()

    answer = site.callback(f"{stripe_world.host_url}/integrations/{NAME}/callback?code=ac_forged&state=cst_forged")

    assert answer.status_code == 400
    assert answer.json()["code"] == "connect_state_unknown"
    assert "not one we issued" in answer.json()["message"]
    assert stripe_world.host.connections.find(site.tenant.id, NAME) is None


def test_a_replayed_callback_is_refused(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    site = stripe_world.site()
    back = site.authorize(email="ada@example.com")
    site.callback(back)

    again = site.callback(back)

    assert again.json()["code"] == "connect_state_used"
    assert "already used" in again.json()["message"]


def test_an_expired_state_is_refused(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    site = stripe_world.site()
    back = site.authorize(email="ada@example.com")

    stripe_world.host.clock.advance(minutes=11)
    answer = site.callback(back)

    assert answer.json()["code"] == "connect_state_expired"
    assert stripe_world.host.connections.find(site.tenant.id, NAME) is None


def test_a_state_started_by_another_site_is_refused(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    ada, mallory = stripe_world.site("Ada"), stripe_world.site("Mallory")
    back = ada.authorize(email="ada@example.com")

    answer = mallory.callback(back)

    assert answer.json()["code"] == "connect_state_other_tenant"
    assert stripe_world.host.connections.find(mallory.tenant.id, NAME) is None


def test_a_stripe_outage_during_the_token_exchange_leaves_no_connection(stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    site = stripe_world.site()
    back = site.authorize(email="ada@example.com")

    stripe_world.sandbox.stop()
    answer = site.callback(back)

    assert answer.status_code == 503  # the error's own status: Stripe is unavailable, try again later
    assert answer.json()["code"] == "stripe_unavailable"
    assert "Stripe could not be reached" in answer.json()["message"]
    assert stripe_world.host.connections.find(site.tenant.id, NAME) is None


def test_an_account_connected_to_another_site_is_refused_with_the_help_pages_advice(
        stripe_world: StripeWorld) -> None:
    stripe_world.new_account("ada@example.com", verified=True)
    first, second = stripe_world.site("First"), stripe_world.site("Second")
    first.connect_oauth(email="ada@example.com")

    answer = second.connect_oauth(email="ada@example.com")

    assert answer.json()["code"] == "account_already_connected"
    assert "create a new Stripe account (you can use the same email address)" in answer.json()["message"]
    assert stripe_world.host.connections.find(second.tenant.id, NAME) is None
    assert first.connection()["state"] == "connected"


# -- Connect Onboarding: a new account -----------------------------------------------------------------------------
def onboard(world: StripeWorld, site: Site, action: str = "verify") -> Any:
    page = world.browser.get(site.start_connect("onboarding"))
    assert page.status_code == 200, page.text
    return page, lambda current: world.browser.post(
        _action(current.text), data={"business_name": "Ada's Studio", "url": "https://ada.example", "action": action})


def _action(html: str) -> str:
    return form_action(html, "onboarding-form")


def test_creating_a_new_account_through_onboarding_connects_it(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    page, submit = onboard(stripe_world, site)

    back = submit(page)
    answer = site.callback(back.headers["location"])

    assert answer.json()["code"] == "connected", answer.text
    connection = site.connection()
    assert connection["external_id"].startswith("acct_")
    assert connection["data"]["connect_method"] == "onboarding"


def test_a_stripe_outage_when_creating_a_new_account_answers_503_and_stores_nothing(
        stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    stripe_world.sandbox.stop()

    answer = site.api.post(f"/api/integrations/{NAME}/connect", json={"option": "onboarding"})

    assert answer.status_code == 503
    assert "Stripe could not be reached" in answer.json()["error"]["message"]
    assert stripe_world.host.connections.find(site.tenant.id, NAME) is None


def test_leaving_onboarding_early_is_action_required(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    page, submit = onboard(stripe_world, site, action="save")

    answer = site.callback(submit(page).headers["location"])

    assert answer.json()["code"] == "action_required"
    assert site.connection()["reason"].endswith("from you before you can accept payments.")


def test_an_expired_onboarding_link_is_refreshed_with_a_new_one(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    link = site.start_connect("onboarding")
    stripe_world.control("POST", "/clock", advance=600)

    refresh = stripe_world.browser.get(link)
    assert refresh.status_code == 302
    assert query_of(refresh.headers["location"])["stripe_onboarding"] == "refresh"
    new_link = site.callback(refresh.headers["location"])
    assert new_link.status_code == 303
    page = stripe_world.browser.get(new_link.headers["location"])
    back = stripe_world.browser.post(_action(page.text), data={"action": "verify"})
    answer = site.callback(back.headers["location"])

    assert answer.json()["code"] == "connected", answer.text


# -- refresh, revocation, disconnect -------------------------------------------------------------------------------
def test_a_grant_revoked_in_stripe_is_needs_reauth_on_refresh(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()

    stripe_world.control("POST", f"/accounts/{account_id}/deauthorize")
    refreshed = site.refresh().json()["connection"]

    assert refreshed["state"] == "needs_reauth"
    assert "Connect Stripe again" in refreshed["reason"]


def test_a_refresh_during_a_stripe_outage_answers_503_and_keeps_the_state(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()

    stripe_world.sandbox.stop()
    answer = site.refresh()

    assert answer.status_code == 503
    assert "Stripe could not be reached" in answer.json()["error"]["message"]
    assert site.connection()["state"] == "connected"


def test_disconnecting_deauthorizes_at_stripe_and_forgets_the_credentials(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()

    answer = site.disconnect()

    assert answer.json()["connection"]["state"] == "disconnected"
    assert stripe_world.control("GET", f"/accounts/{account_id}")["_connected"] == []
    stored = stripe_world.host.connections.find(site.tenant.id, NAME)
    assert stored is not None and stored.external_id is None
    assert stored_secrets_column(stripe_world, site) is None


def test_disconnecting_twice_is_harmless(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    site.disconnect()

    again = site.disconnect()

    assert again.status_code == 200
    assert again.json()["connection"]["state"] == "disconnected"


def test_disconnecting_an_account_stripe_already_forgot_is_harmless(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    stripe_world.control("POST", f"/accounts/{account_id}/deauthorize")

    answer = site.disconnect()

    assert answer.json()["connection"]["state"] == "disconnected"
    assert answer.json()["connection"]["reason"] == "Disconnected by the creator."


def test_a_test_mode_key_never_acts_on_a_live_connection(stripe_world: StripeWorld) -> None:
    site = stripe_world.site()
    stripe_world.host.connections.save_connected(
        site.tenant, NAME, Connected(external_id="acct_live0000000001", livemode=True,
                                     data={"connect_method": "oauth"}), actor="test")
    before = len(stripe_world.requests())

    refreshed = site.refresh()
    disconnected = site.disconnect().json()["connection"]

    assert refreshed.status_code == 409
    assert "live mode" in refreshed.json()["error"]["message"]
    assert disconnected["state"] == "disconnected"
    assert "test-mode key" in disconnected["reason"]
    assert len(stripe_world.requests()) == before
    assert SECRET_KEY.startswith("sk_test_")
