"""What every /v1 endpoint does as Stripe does: keys, Stripe-Account, Stripe-Version, parameters, errors."""

from __future__ import annotations

import httpx
import pytest
import stripe
from intellectra_stripe_sandbox.forms import FormError, parse_query


def test_missing_api_key_is_401_with_stripes_error_shape(kit):
    response = kit.http.get("/v1/accounts/acct_x")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")


def test_wrong_api_key_is_an_authentication_error_with_the_key_masked(kit):
    with pytest.raises(stripe.AuthenticationError) as excinfo:
        kit.make_client("sk_test_wrongkey0000000000001234").v1.accounts.retrieve_current()
    assert excinfo.value.http_status == 401
    assert "sk_test_" in str(excinfo.value.user_message)
    assert "1234" in str(excinfo.value.user_message)
    assert "wrongkey" not in str(excinfo.value.user_message)


def test_stripe_account_header_for_an_account_not_connected_is_a_permission_error(kit):
    stranger = kit.control("/accounts", {"email": "stranger@example.com"})["id"]
    with pytest.raises(stripe.PermissionError) as excinfo:
        kit.client.v1.products.create({"name": "x"}, {"stripe_account": stranger})
    assert excinfo.value.http_status == 403
    assert excinfo.value.json_body["error"]["code"] == "account_invalid"
    assert f"does not have access to account '{stranger}'" in str(excinfo.value.user_message)


def test_unknown_parameter_is_rejected_naming_the_bracket_path(kit):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.products.create({"name": "Course", "colour": "blue"})
    assert excinfo.value.http_status == 400
    assert excinfo.value.code == "parameter_unknown"
    assert excinfo.value.param == "colour"
    assert str(excinfo.value.user_message) == "Received unknown parameter: colour"


def test_unknown_nested_parameter_is_rejected_with_its_full_path(kit):
    product = kit.client.v1.products.create({"name": "Course"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.prices.create(
            {
                "product": product.id,
                "currency": "usd",
                "unit_amount": 100,
                "recurring": {"interval": "month", "every": "2"},
            }
        )
    assert excinfo.value.param == "recurring[every]"


def test_missing_required_parameter_is_parameter_missing(kit):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.products.create({"description": "no name"})
    assert excinfo.value.code == "parameter_missing"
    assert excinfo.value.param == "name"
    assert str(excinfo.value.user_message) == "Missing required param: name."


def test_invalid_enum_value_is_rejected_listing_the_choices(kit):
    product = kit.client.v1.products.create({"name": "Course"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.prices.create(
            {"product": product.id, "currency": "usd", "unit_amount": 100, "recurring": {"interval": "fortnight"}}
        )
    assert excinfo.value.param == "recurring[interval]"
    assert "must be one of day, month, week, or year" in str(excinfo.value.user_message)


def test_invalid_integer_is_parameter_invalid_integer(kit):
    response = kit.http.post(
        "/v1/prices",
        headers={"Authorization": f"Bearer {kit.SECRET_KEY}"},
        data={"product_data[name]": "x", "currency": "usd", "unit_amount": "ten"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_invalid_integer"
    assert response.json()["error"]["param"] == "unit_amount"


def test_malformed_stripe_version_is_rejected_and_valid_ones_are_recorded(kit):
    response = kit.http.get(
        "/v1/account", headers={"Authorization": f"Bearer {kit.SECRET_KEY}", "Stripe-Version": "yesterday"}
    )
    assert response.status_code == 400
    assert "Invalid Stripe API version" in response.json()["error"]["message"]
    kit.client.v1.accounts.retrieve_current()
    recorded = kit.http.get("/_sandbox/requests").json()["data"]
    assert recorded[-1]["stripe_version"] == kit.API_VERSION


def test_unknown_url_is_stripes_unrecognized_request_url(kit):
    response = kit.http.get("/v1/nothing", headers={"Authorization": f"Bearer {kit.SECRET_KEY}"})
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing)")


def test_idempotency_key_replays_the_first_response(kit):
    headers = {"Authorization": f"Bearer {kit.SECRET_KEY}", "Idempotency-Key": "key-1"}
    first = kit.http.post("/v1/products", headers=headers, data={"name": "Course"})
    second = kit.http.post("/v1/products", headers=headers, data={"name": "Course"})
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    different = kit.http.post("/v1/products", headers=headers, data={"name": "Other"})
    assert different.status_code == 400
    assert different.json()["error"]["type"] == "idempotency_error"


def test_objects_created_with_the_live_key_are_live_and_invisible_to_the_test_key(kit, live_client):
    product = live_client.v1.products.create({"name": "Live course"})
    assert product.livemode is True
    assert kit.client.v1.products.create({"name": "Test course"}).livemode is False
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.products.retrieve(product.id)
    assert "a similar object exists in live mode" in str(excinfo.value.user_message)


def test_expand_replaces_ids_with_objects_and_rejects_unknown_paths(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account)
    expanded = kit.client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent", "line_items"]}, {"stripe_account": account}
    )
    assert expanded.payment_intent.object == "payment_intent"
    assert expanded.line_items.data[0].quantity == 1
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.retrieve(session.id, {"expand": ["nothing"]}, {"stripe_account": account})
    assert "cannot be expanded" in str(excinfo.value.user_message)


def test_form_parser_rebuilds_nested_hashes_and_lists():
    assert parse_query(
        "metadata[offer_id]=o1&line_items[0][price]=p&line_items[0][quantity]=1&line_items[1][price]=q"
        "&expand[]=a&expand[]=b&recurring[interval]=month"
    ) == {
        "metadata": {"offer_id": "o1"},
        "line_items": [{"price": "p", "quantity": "1"}, {"price": "q"}],
        "expand": ["a", "b"],
        "recurring": {"interval": "month"},
    }


def test_form_parser_rejects_a_key_used_as_value_and_hash():
    with pytest.raises(FormError):
        parse_query("metadata=x&metadata[a]=b")


def test_http_client_can_use_basic_auth_like_curl(kit):
    response = httpx.get(kit.server.url + "/v1/account", auth=(kit.SECRET_KEY, ""))
    assert response.status_code == 200
    assert response.json()["object"] == "account"
