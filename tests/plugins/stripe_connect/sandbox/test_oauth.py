"""Connect OAuth for Standard accounts: the authorize page, code exchange, refresh and deauthorization."""

from __future__ import annotations

import pytest
import stripe


def test_authorize_url_from_the_stripe_library_opens_a_page_marked_as_a_sandbox(kit):
    page = kit.authorize_page()
    assert "Stripe sandbox — not Stripe" in page
    assert "Intellectra Test Platform" in page
    assert 'id="register-form"' in page and 'id="signin-form"' in page


def test_connect_redirects_to_the_redirect_uri_with_code_scope_and_state(kit):
    query = kit.connect_new_account(state="tenant-42-nonce")
    assert query["code"].startswith("ac_")
    assert query["scope"] == "read_write"
    assert query["state"] == "tenant-42-nonce"


def test_code_exchange_returns_stripe_token_response(kit):
    token = kit.connect_account()
    assert token.token_type == "bearer"
    assert token.livemode is False
    assert token.scope == "read_write"
    assert token.stripe_user_id.startswith("acct_")
    assert token.access_token.startswith("sk_test_")
    assert token.refresh_token.startswith("rt_")
    assert token.stripe_publishable_key.startswith("pk_test_")


def test_connected_account_is_reachable_with_stripe_account_header(kit):
    token = kit.connect_account()
    account = kit.client.v1.accounts.retrieve(token.stripe_user_id)
    assert account.id == token.stripe_user_id
    assert account.email == "creator@example.com"
    assert account.charges_enabled is True
    own = kit.client.v1.accounts.retrieve_current(options={"stripe_account": token.stripe_user_id})
    assert own.id == token.stripe_user_id


def test_access_token_works_as_the_connected_accounts_api_key(kit):
    token = kit.connect_account()
    as_account = kit.make_client(token.access_token)
    assert as_account.v1.accounts.retrieve_current().id == token.stripe_user_id


def test_reusing_a_code_fails_with_invalid_grant_and_revokes_its_tokens(kit):
    query = kit.connect_new_account()
    token = kit.client.oauth.token({"grant_type": "authorization_code", "code": query["code"]})
    with pytest.raises(stripe.oauth_error.InvalidGrantError) as excinfo:
        kit.client.oauth.token({"grant_type": "authorization_code", "code": query["code"]})
    assert excinfo.value.http_status == 400
    assert excinfo.value.json_body["error"] == "invalid_grant"
    assert "already been used" in excinfo.value.json_body["error_description"]
    with pytest.raises(stripe.AuthenticationError):
        kit.make_client(token.access_token).v1.accounts.retrieve_current()


def test_unknown_code_fails_with_invalid_grant(kit):
    with pytest.raises(stripe.oauth_error.InvalidGrantError) as excinfo:
        kit.client.oauth.token({"grant_type": "authorization_code", "code": "ac_doesnotexist"})
    assert excinfo.value.json_body == {
        "error": "invalid_grant",
        "error_description": "Authorization code does not exist: ac_doesnotexist",
    }


def test_code_expires_after_five_minutes_on_the_sandbox_clock(kit):
    query = kit.connect_new_account()
    kit.control("/clock", {"advance": 301})
    with pytest.raises(stripe.oauth_error.InvalidGrantError) as excinfo:
        kit.client.oauth.token({"grant_type": "authorization_code", "code": query["code"]})
    assert "expired" in excinfo.value.json_body["error_description"]


def test_unsupported_grant_type_is_an_oauth_error(kit):
    with pytest.raises(stripe.oauth_error.UnsupportedGrantTypeError):
        kit.client.oauth.token({"grant_type": "password", "code": "x"})


def test_token_exchange_requires_the_platform_secret_key(kit):
    query = kit.connect_new_account()
    wrong = kit.make_client("sk_test_notthekey000000000000")
    with pytest.raises(stripe.oauth_error.InvalidClientError) as excinfo:
        wrong.oauth.token({"grant_type": "authorization_code", "code": query["code"]})
    assert excinfo.value.http_status == 401


def test_refresh_token_grants_a_new_access_token(kit):
    token = kit.connect_account()
    refreshed = kit.client.oauth.token({"grant_type": "refresh_token", "refresh_token": token.refresh_token})
    assert refreshed.access_token != token.access_token
    assert refreshed.stripe_user_id == token.stripe_user_id
    assert kit.make_client(refreshed.access_token).v1.accounts.retrieve_current().id == token.stripe_user_id


def test_deny_redirects_with_access_denied_and_state(kit):
    page = kit.authorize_page(state="s-1")
    response = kit.http.post(
        kit.form_action(page, "signin-form").replace("signin", "decide"), data={"decision": "deny"}
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith(kit.REDIRECT_URI + "?")
    assert kit.query_of(response.headers["location"]) == {
        "error": "access_denied",
        "error_description": "The user denied your request",
        "state": "s-1",
    }


def test_sign_in_offers_the_existing_accounts_registered_with_that_email(kit):
    existing = kit.control("/accounts", {"email": "owner@example.com", "business_name": "Owner Ltd", "verified": True})
    page = kit.authorize_page()
    response = kit.http.post(kit.form_action(page, "signin-form"), data={"email": "owner@example.com"})
    assert response.status_code == 200
    assert f'id="account-{existing["id"]}"' in response.text
    decided = kit.http.post(
        kit.form_action(response.text, "decide-form"), data={"account": existing["id"], "decision": "connect"}
    )
    code = kit.query_of(decided.headers["location"])["code"]
    token = kit.client.oauth.token({"grant_type": "authorization_code", "code": code})
    assert token.stripe_user_id == existing["id"]


def test_sign_in_with_an_unknown_email_shows_an_error(kit):
    page = kit.authorize_page()
    response = kit.http.post(kit.form_action(page, "signin-form"), data={"email": "nobody@example.com"})
    assert response.status_code == 400
    assert "No sandbox account" in response.text


def test_unknown_client_id_shows_an_error_page_instead_of_redirecting(kit):
    response = kit.http.get(
        "/oauth/authorize",
        params={
            "client_id": "ca_unknown",
            "response_type": "code",
            "scope": "read_write",
            "redirect_uri": kit.REDIRECT_URI,
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Stripe sandbox — not Stripe" in response.text


def test_unregistered_redirect_uri_shows_an_error_page_instead_of_redirecting(kit):
    url = kit.client.oauth.authorize_url({"scope": "read_write", "redirect_uri": "https://evil.example/cb"})
    response = kit.http.get(kit.path_of(url))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Invalid redirect URI" in response.text


def test_invalid_scope_redirects_with_invalid_scope(kit):
    url = kit.client.oauth.authorize_url({"scope": "admin", "redirect_uri": kit.REDIRECT_URI, "state": "x"})
    response = kit.http.get(kit.path_of(url))
    assert response.status_code == 302
    assert kit.query_of(response.headers["location"])["error"] == "invalid_scope"


def test_deauthorize_disconnects_and_emits_account_application_deauthorized(kit):
    token = kit.connect_account()
    result = kit.client.oauth.deauthorize({"stripe_user_id": token.stripe_user_id})
    assert result.stripe_user_id == token.stripe_user_id
    events = kit.receiver.wait_for_event("account.application.deauthorized")
    assert events[0]["account"] == token.stripe_user_id
    assert events[0]["data"]["object"] == {
        "id": kit.CLIENT_ID,
        "name": "Intellectra Test Platform",
        "object": "application",
    }
    with pytest.raises(stripe.PermissionError) as excinfo:
        kit.client.v1.accounts.retrieve(token.stripe_user_id)
    assert excinfo.value.json_body["error"]["code"] == "account_invalid"


def test_deauthorizing_an_account_that_is_not_connected_is_an_invalid_client_error(kit):
    with pytest.raises(stripe.oauth_error.InvalidClientError) as excinfo:
        kit.client.oauth.deauthorize({"stripe_user_id": "acct_notconnected"})
    assert excinfo.value.http_status == 401
    assert "not connected" in excinfo.value.json_body["error_description"]


def test_connecting_emits_account_application_authorized(kit):
    token = kit.connect_account()
    event = kit.receiver.wait_for_event("account.application.authorized")[0]
    assert event["account"] == token.stripe_user_id
    assert event["livemode"] is False


def test_live_key_exchange_creates_a_live_connection_separate_from_test(kit):
    query = kit.connect_new_account()
    live = kit.make_client(kit.LIVE_SECRET_KEY)
    token = live.oauth.token({"grant_type": "authorization_code", "code": query["code"]})
    assert token.livemode is True
    assert token.access_token.startswith("sk_live_")
    assert live.v1.accounts.retrieve(token.stripe_user_id).id == token.stripe_user_id
    with pytest.raises(stripe.PermissionError):
        kit.client.v1.accounts.retrieve(token.stripe_user_id)
