"""Account → connection state, as a creator reads it."""

from __future__ import annotations

from typing import Any

from core import ConnectionState
from plugins.stripe_connect.status import plain_requirements, revoked_status, status_from_account

DASHBOARD = "https://dashboard.example/acct_1"


def account(*, charges: bool = True, payouts: bool = True, submitted: bool = True,
            currently_due: list[str] | None = None, past_due: list[str] | None = None,
            disabled_reason: str | None = None) -> dict[str, Any]:
    return {"id": "acct_1", "charges_enabled": charges, "payouts_enabled": payouts, "details_submitted": submitted,
            "requirements": {"currently_due": currently_due or [], "past_due": past_due or [],
                             "disabled_reason": disabled_reason}}


def test_an_account_that_can_charge_and_pay_out_is_connected() -> None:
    status = status_from_account(account(), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.CONNECTED
    assert status.reason == "Ready to accept payments."
    assert status.action_url == DASHBOARD


def test_missing_information_is_action_required_naming_it_in_plain_words() -> None:
    status = status_from_account(account(charges=False, payouts=False, submitted=False,
                                         currently_due=["external_account", "individual.verification.document",
                                                        "tos_acceptance.date", "tos_acceptance.ip"],
                                         disabled_reason="requirements.past_due"), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert status.reason == ("Stripe needs more information before you can accept payments: a bank account for "
                             "payouts, an identity document and acceptance of Stripe's terms of service. Add it "
                             "in your Stripe dashboard.")
    assert status.action_url == DASHBOARD


def test_pending_verification_says_stripe_is_verifying() -> None:
    status = status_from_account(account(charges=False, payouts=False,
                                         disabled_reason="requirements.pending_verification"), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert status.reason.startswith("Stripe is verifying your details")


def test_charges_without_payouts_is_action_required_about_payouts() -> None:
    status = status_from_account(account(payouts=False, currently_due=["external_account"]), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert "Stripe will not pay out to you until you add a bank account for payouts" in status.reason


def test_information_due_soon_on_a_working_account_is_action_required() -> None:
    status = status_from_account(account(currently_due=["business_profile.url"]), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert "Stripe needs your website soon" in status.reason


def test_a_rejected_account_is_an_error() -> None:
    status = status_from_account(account(charges=False, payouts=False, disabled_reason="rejected.fraud"),
                                 dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ERROR
    assert "Stripe rejected this account (fraud)" in status.reason


def test_the_status_details_carry_stripes_flags_for_support() -> None:
    status = status_from_account(account(payouts=False), dashboard_url=DASHBOARD)

    assert status.details["charges_enabled"] is True
    assert status.details["payouts_enabled"] is False


def test_unknown_requirements_fall_back_to_their_last_words() -> None:
    assert plain_requirements(["individual.dob.day", "individual.dob.month", "weird.new_field"]) == [
        "your date of birth", "new field"]


def test_a_revoked_grant_is_needs_reauth_pointing_at_reconnecting() -> None:
    status = revoked_status(DASHBOARD)

    assert status.state is ConnectionState.NEEDS_REAUTH
    assert "Connect Stripe again" in status.reason
