"""Accounts, account links, onboarding, the dashboard, and account.updated webhooks."""

from __future__ import annotations

import pytest
import stripe


def _new_account(kit, **params):
    return kit.client.v1.accounts.create({"type": "standard", "country": "US", "email": "new@example.com", **params})


def test_a_new_account_starts_unsubmitted_with_requirements_due(kit):
    account = _new_account(kit, metadata={"tenant": "t1"})
    assert account.object == "account"
    assert account.id.startswith("acct_")
    assert account.type == "standard"
    assert account.details_submitted is False
    assert account.charges_enabled is False
    assert account.payouts_enabled is False
    assert "business_profile.url" in account.requirements.currently_due
    assert "external_account" in account.requirements.currently_due
    assert "tos_acceptance.date" in account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.metadata.to_dict() == {"tenant": "t1"}
    assert account.controller.type == "application"


def test_account_has_the_field_set_of_stripes_example_account(kit):
    import json
    from importlib import resources

    fixture = json.loads(resources.files("intellectra_stripe_sandbox").joinpath("fixtures.json").read_text())[
        "resources"
    ]["account"]
    account = _new_account(kit)
    assert set(account.to_dict()) == set(fixture)
    assert set(account.requirements.to_dict()) == set(fixture["requirements"])


def test_account_created_with_controller_properties(kit):
    account = kit.client.v1.accounts.create(
        {"controller": {"stripe_dashboard": {"type": "full"}, "fees": {"payer": "account"}}}
    )
    assert account.type == "standard"
    assert account.controller.stripe_dashboard.type == "full"


def test_type_and_controller_together_are_rejected(kit):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.accounts.create({"type": "standard", "controller": {"fees": {"payer": "account"}}})
    assert excinfo.value.code == "parameters_exclusive"


def test_retrieving_an_unknown_account_is_resource_missing(kit):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.accounts.retrieve("acct_doesnotexist")
    assert excinfo.value.http_status == 404
    assert excinfo.value.code == "resource_missing"
    assert str(excinfo.value.user_message) == "No such account: 'acct_doesnotexist'"


def test_get_account_without_stripe_account_is_the_platform(kit):
    platform = kit.client.v1.accounts.retrieve_current()
    assert platform.id == kit.server.sandbox.platform_id
    assert platform.charges_enabled is True


def test_updating_an_account_satisfies_matching_requirements_and_emits_account_updated(kit):
    account = _new_account(kit)
    updated = kit.client.v1.accounts.update(account.id, {"business_profile": {"url": "https://creator.example"}})
    assert "business_profile.url" not in updated.requirements.currently_due
    event = kit.receiver.wait_for_event("account.updated")[0]
    assert event["account"] == account.id
    assert "business_profile.url" in event["data"]["previous_attributes"]["requirements"]["currently_due"]


def test_account_link_points_to_a_sandbox_onboarding_page(kit):
    account = _new_account(kit)
    link = kit.client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "https://site.example/refresh",
            "return_url": "https://site.example/return",
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link"
    assert link.url.startswith(kit.server.url + "/setup/s/" + account.id + "/")
    assert link.expires_at == link.created + 300
    page = kit.http.get(kit.path_of(link.url))
    assert page.status_code == 200
    assert "Stripe sandbox — not Stripe" in page.text
    assert 'id="submit-verify"' in page.text


def test_account_link_requires_account_and_type(kit):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.account_links.create({"account": _new_account(kit).id})
    assert excinfo.value.code == "parameter_missing"
    assert excinfo.value.param == "type"


def _link(kit, account_id):
    return kit.client.v1.account_links.create(
        {
            "account": account_id,
            "refresh_url": "https://site.example/refresh",
            "return_url": "https://site.example/return",
            "type": "account_onboarding",
        }
    )


def test_expired_account_link_redirects_to_refresh_url(kit):
    link = _link(kit, _new_account(kit).id)
    kit.control("/clock", {"advance": 301})
    response = kit.http.get(kit.path_of(link.url))
    assert response.status_code == 302
    assert response.headers["location"] == "https://site.example/refresh"


def test_account_link_is_single_use(kit):
    link = _link(kit, _new_account(kit).id)
    assert kit.http.get(kit.path_of(link.url)).status_code == 200
    again = kit.http.get(kit.path_of(link.url))
    assert again.status_code == 302
    assert again.headers["location"] == "https://site.example/refresh"


def test_onboarding_submit_and_verify_enables_the_account_and_returns(kit):
    account = _new_account(kit)
    page = kit.http.get(kit.path_of(_link(kit, account.id).url)).text
    response = kit.http.post(
        kit.form_action(page, "onboarding-form"),
        data={"business_name": "Creator Co", "url": "https://creator.example", "action": "verify"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "https://site.example/return"
    after = kit.client.v1.accounts.retrieve(account.id)
    assert after.details_submitted is True
    assert after.charges_enabled is True
    assert after.payouts_enabled is True
    assert after.requirements.currently_due == []


def test_onboarding_submit_leaving_verification_pending(kit):
    account = _new_account(kit)
    page = kit.http.get(kit.path_of(_link(kit, account.id).url)).text
    kit.http.post(kit.form_action(page, "onboarding-form"), data={"action": "pending"})
    after = kit.client.v1.accounts.retrieve(account.id)
    assert after.details_submitted is True
    assert after.charges_enabled is False
    assert after.requirements.pending_verification == ["individual.verification.document"]
    assert after.requirements.disabled_reason == "requirements.pending_verification"


def test_requirements_change_emits_a_signed_account_updated_webhook(kit):
    account_id = kit.connected_account(verified=True)
    kit.control(
        f"/accounts/{account_id}/requirements",
        {"currently_due": ["individual.verification.document"], "past_due": ["individual.verification.document"]},
    )

    def received():
        return [r for r in kit.receiver.received if '"account.updated"' in r["body"]]

    delivery = kit.receiver.wait_for(received)[0]
    header = delivery["headers"]["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(delivery["body"], header, kit.WEBHOOK_SECRET, tolerance=300)
    event = stripe.Webhook.construct_event(delivery["body"], header, kit.WEBHOOK_SECRET)
    assert event.type == "account.updated"
    assert event.account == account_id
    assert event.data.object.charges_enabled is False
    assert event.data.object.requirements.disabled_reason == "requirements.past_due"
    assert event.data.previous_attributes.charges_enabled is True


def test_signature_does_not_verify_with_another_secret(kit):
    account_id = kit.connected_account(verified=True)
    kit.control(f"/accounts/{account_id}/requirements", {"past_due": ["external_account"]})
    delivery = kit.receiver.wait_for(lambda: kit.receiver.received)[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            delivery["body"], delivery["headers"]["Stripe-Signature"], "whsec_other", tolerance=300
        )


def test_dashboard_shows_status_and_providing_information_enables_charges(kit):
    account_id = kit.connected_account()
    page = kit.http.get(f"/dashboard/{account_id}")
    assert page.status_code == 200
    assert "Stripe sandbox — not Stripe" in page.text
    assert '<td id="charges-enabled">false</td>' in page.text
    response = kit.http.post(kit.form_action(page.text, "provide-form"), data={"url": "https://c.example"})
    assert response.status_code == 303
    account = kit.client.v1.accounts.retrieve(account_id)
    assert account.charges_enabled is True and account.payouts_enabled is True
    event = kit.receiver.wait_for_event("account.updated")[0]
    assert event["data"]["previous_attributes"]["charges_enabled"] is False


def test_dashboard_disconnect_platform_deauthorizes(kit):
    token = kit.connect_account()
    page = kit.http.get(f"/dashboard/{token.stripe_user_id}").text
    kit.http.post(kit.form_action(page, "disconnect-form"))
    event = kit.receiver.wait_for_event("account.application.deauthorized")[0]
    assert event["account"] == token.stripe_user_id
    assert not kit.server.sandbox.is_connected(token.stripe_user_id, False)


def test_oauth_connected_standard_accounts_only_accept_metadata_updates(kit):
    token = kit.connect_account()
    kit.client.v1.accounts.update(token.stripe_user_id, {"metadata": {"tenant": "t1"}})
    with pytest.raises(stripe.PermissionError):
        kit.client.v1.accounts.update(token.stripe_user_id, {"email": "other@example.com"})


def test_dashboard_index_links_every_account(kit):
    account_id = kit.connected_account(email="listed@example.com")
    page = kit.http.get("/dashboard")
    assert page.status_code == 200
    assert f'href="/dashboard/{account_id}"' in page.text
    assert "Stripe sandbox — not Stripe" in page.text


def test_every_html_page_carries_the_sandbox_banner(kit):
    assert "Stripe sandbox — not Stripe" in kit.http.get("/dashboard/acct_unknown").text
    assert "Stripe sandbox — not Stripe" in kit.http.get("/checkout/pay/cs_test_unknown").text
    assert "Stripe sandbox — not Stripe" in kit.http.get("/nowhere").text
