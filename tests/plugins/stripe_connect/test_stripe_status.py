"""Account → connection state, as a creator reads it."""

from __future__ import annotations

from typing import Any

import pytest

from core import ConnectionState
from plugins.stripe_connect.status import plain_requirements, revoked_status, status_from_account

DASHBOARD = "https://dashboard.example/acct_1"


def account(*, charges: bool = True, payouts: bool = True, submitted: bool = True,
            currently_due: list[str] | None = None, past_due: list[str] | None = None,
            pending_verification: list[str] | None = None, disabled_reason: str | None = None) -> dict[str, Any]:
    return {"id": "acct_1", "charges_enabled": charges, "payouts_enabled": payouts, "details_submitted": submitted,
            "requirements": {"currently_due": currently_due or [], "past_due": past_due or [],
                             "pending_verification": pending_verification or [], "disabled_reason": disabled_reason}}


def test_an_account_that_can_charge_and_pay_out_is_connected() -> None:
    status = status_from_account(account(), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.CONNECTED
    assert status.reason == "Ready to accept payments."
    assert status.action_url == DASHBOARD


def test_missing_information_is_action_required_in_one_short_sentence_the_list_apart() -> None:
    due = ["external_account", "individual.verification.document", "tos_acceptance.date", "tos_acceptance.ip"]
    status = status_from_account(account(charges=False, payouts=False, submitted=False, currently_due=due,
                                         disabled_reason="requirements.past_due"), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert status.reason == "Stripe needs 3 more details from you before you can accept payments."
    assert "bank account" not in status.reason, "the list is shown once, by the card, not repeated in the reason"
    assert plain_requirements(due) == ["a bank account for payouts", "an identity document",
                                       "acceptance of Stripe's terms of service"]
    assert status.details["verification"] is None
    assert status.action_url == DASHBOARD


@pytest.mark.parametrize("pending", [
    {"pending_verification": ["individual.verification.document"]},
    {"disabled_reason": "requirements.pending_verification"},
])
def test_pending_verification_is_nothing_to_do_not_a_call_to_action(pending) -> None:
    status = status_from_account(account(charges=False, payouts=False, **pending), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED, "no new state: the account cannot take payments yet"
    assert status.details["verification"] == "in_progress"
    assert status.reason == ("Stripe is verifying your details. There is nothing to do for now: you can accept "
                             "payments once it has finished.")


def test_verification_with_something_still_due_is_action_required() -> None:
    status = status_from_account(account(charges=False, payouts=False, currently_due=["external_account"],
                                         pending_verification=["individual.verification.document"]),
                                 dashboard_url=DASHBOARD)

    assert status.details["verification"] is None
    assert status.reason == "Stripe needs one more detail from you before you can accept payments."


def test_charges_without_payouts_is_action_required_about_payouts() -> None:
    status = status_from_account(account(payouts=False, currently_due=["external_account"]), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert status.reason == ("You can accept payments, but Stripe will not pay out to you until you give it one more "
                             "detail.")


def test_information_due_soon_on_a_working_account_is_action_required() -> None:
    status = status_from_account(account(currently_due=["business_profile.url"]), dashboard_url=DASHBOARD)

    assert status.state is ConnectionState.ACTION_REQUIRED
    assert status.reason == ("You can accept payments. Stripe needs one more detail soon to keep payments and payouts "
                             "running.")


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
