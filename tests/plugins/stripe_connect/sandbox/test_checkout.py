"""Products, prices and Checkout Sessions on a connected account (direct charges), and the payment page."""

from __future__ import annotations

import pytest
import stripe


def _catalog(kit, account, *, recurring=False, amount=2500):
    options = {"stripe_account": account}
    product = kit.client.v1.products.create({"name": "Course", "metadata": {"offer_id": "o1"}}, options)
    params = {"product": product.id, "unit_amount": amount, "currency": "usd", "metadata": {"offer_id": "o1"}}
    if recurring:
        params["recurring"] = {"interval": "month"}
    return product, kit.client.v1.prices.create(params, options)


def _session_params(price_id, mode="payment", **extra):
    return {
        "mode": mode,
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": "https://site.example/thanks?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://site.example/cancel",
        **extra,
    }


def test_product_and_price_live_on_the_connected_account(kit):
    account = kit.connected_account(verified=True)
    product, price = _catalog(kit, account)
    assert product.object == "product" and product.metadata.to_dict() == {"offer_id": "o1"}
    assert price.product == product.id and price.type == "one_time" and price.unit_amount == 2500
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.prices.retrieve(price.id)  # not on the platform
    assert excinfo.value.code == "resource_missing"


def test_recurring_price(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account, recurring=True)
    assert price.type == "recurring"
    assert price.recurring.interval == "month" and price.recurring.interval_count == 1


def test_price_for_a_product_on_another_account_is_no_such_product(kit):
    account = kit.connected_account(verified=True)
    product = kit.client.v1.products.create({"name": "Platform product"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.prices.create(
            {"product": product.id, "unit_amount": 100, "currency": "usd"}, {"stripe_account": account}
        )
    assert excinfo.value.http_status == 400
    assert excinfo.value.param == "product"


def test_checkout_session_on_connected_account_has_a_sandbox_payment_url(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    session = kit.client.v1.checkout.sessions.create(
        _session_params(
            price.id,
            metadata={"offer_id": "o1"},
            client_reference_id="member-7",
            customer_email="buyer@example.com",
            payment_intent_data={"application_fee_amount": 250},
        ),
        {"stripe_account": account},
    )
    assert session.id.startswith("cs_test_")
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.amount_total == 2500 and session.currency == "usd"
    assert session.url == f"{kit.server.url}/checkout/pay/{session.id}"
    page = kit.http.get(kit.path_of(session.url))
    assert page.status_code == 200
    assert "Stripe sandbox — not Stripe" in page.text
    assert "25.00 USD" in page.text


def test_paying_completes_the_session_and_emits_checkout_session_completed_with_account(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    session = kit.client.v1.checkout.sessions.create(
        _session_params(price.id, metadata={"offer_id": "o1"}, payment_intent_data={"application_fee_amount": 250}),
        {"stripe_account": account},
    )
    response = kit.http.post(f"/checkout/pay/{session.id}", data={"email": "buyer@example.com", "action": "pay"})
    assert response.status_code == 303
    assert response.headers["location"] == f"https://site.example/thanks?session={session.id}"
    done = kit.client.v1.checkout.sessions.retrieve(session.id, None, {"stripe_account": account})
    assert done.status == "complete" and done.payment_status == "paid"
    assert done.customer_details.email == "buyer@example.com"
    event = kit.receiver.wait_for_event("checkout.session.completed")[0]
    assert event["account"] == account
    assert event["data"]["object"]["id"] == session.id
    assert event["data"]["object"]["metadata"] == {"offer_id": "o1"}
    charge = kit.receiver.wait_for_event("charge.succeeded")[0]["data"]["object"]
    assert charge["application_fee_amount"] == 250 and charge["amount"] == 2500
    intent = kit.client.v1.payment_intents.retrieve(done.payment_intent, None, {"stripe_account": account})
    assert intent.status == "succeeded" and intent.latest_charge == charge["id"]


def test_cancel_on_the_payment_page_returns_to_cancel_url_and_leaves_the_session_open(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    session = kit.client.v1.checkout.sessions.create(_session_params(price.id), {"stripe_account": account})
    response = kit.http.post(f"/checkout/pay/{session.id}", data={"action": "cancel"})
    assert response.status_code == 303 and response.headers["location"] == "https://site.example/cancel"
    assert kit.client.v1.checkout.sessions.retrieve(session.id, None, {"stripe_account": account}).status == "open"


def test_declined_test_card_shows_an_error_and_leaves_the_session_open(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    session = kit.client.v1.checkout.sessions.create(_session_params(price.id), {"stripe_account": account})
    response = kit.http.post(f"/checkout/pay/{session.id}", data={"action": "pay", "card_number": "4000000000000002"})
    assert response.status_code == 402
    assert "Your card was declined." in response.text


def test_checkout_session_on_an_account_with_charges_disabled_is_rejected(kit):
    account = kit.connected_account()  # onboarding not finished
    _, price = _catalog(kit, account)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.create(_session_params(price.id), {"stripe_account": account})
    assert "cannot currently make live charges" in str(excinfo.value.user_message)


def test_application_fee_amount_in_subscription_mode_is_rejected(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account, recurring=True)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.create(
            _session_params(price.id, mode="subscription", payment_intent_data={"application_fee_amount": 100}),
            {"stripe_account": account},
        )
    assert excinfo.value.param == "payment_intent_data"
    assert str(excinfo.value.user_message) == "You can not pass `payment_intent_data` in `subscription` mode."


def test_application_fee_percent_in_payment_mode_is_rejected(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.create(
            _session_params(price.id, subscription_data={"application_fee_percent": 10}),
            {"stripe_account": account},
        )
    assert excinfo.value.param == "subscription_data"


def test_subscription_checkout_applies_application_fee_percent(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account, recurring=True, amount=1000)
    session = kit.client.v1.checkout.sessions.create(
        _session_params(price.id, mode="subscription", subscription_data={"application_fee_percent": 10}),
        {"stripe_account": account},
    )
    kit.control(f"/checkout/sessions/{session.id}/pay")
    done = kit.client.v1.checkout.sessions.retrieve(session.id, None, {"stripe_account": account})
    assert done.subscription.startswith("sub_")
    charge = kit.receiver.wait_for_event("charge.succeeded")[0]["data"]["object"]
    assert charge["application_fee_amount"] == 100


def test_recurring_price_in_payment_mode_is_rejected(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account, recurring=True)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.create(_session_params(price.id), {"stripe_account": account})
    assert "recurring price" in str(excinfo.value.user_message)


def test_line_item_without_quantity_is_rejected(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    params = _session_params(price.id)
    params["line_items"] = [{"price": price.id}]
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.create(params, {"stripe_account": account})
    assert excinfo.value.param == "line_items[0][quantity]"


def test_application_fee_amount_without_stripe_account_is_rejected(kit):
    product = kit.client.v1.products.create({"name": "Platform course"})
    price = kit.client.v1.prices.create({"product": product.id, "unit_amount": 100, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.checkout.sessions.create(
            _session_params(price.id, payment_intent_data={"application_fee_amount": 10})
        )
    assert "direct payment" in str(excinfo.value.user_message)


def test_session_expires_on_the_sandbox_clock(kit):
    account = kit.connected_account(verified=True)
    _, price = _catalog(kit, account)
    session = kit.client.v1.checkout.sessions.create(_session_params(price.id), {"stripe_account": account})
    kit.control("/clock", {"advance": 86401})
    assert kit.client.v1.checkout.sessions.retrieve(session.id, None, {"stripe_account": account}).status == "expired"
    assert kit.receiver.wait_for_event("checkout.session.expired")[0]["account"] == account


def test_inline_price_data_line_items(kit):
    account = kit.connected_account(verified=True)
    session = kit.client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "success_url": "https://site.example/ok",
            "line_items": [
                {
                    "quantity": 2,
                    "price_data": {"currency": "eur", "unit_amount": 500, "product_data": {"name": "Ebook"}},
                }
            ],
        },
        {"stripe_account": account},
    )
    assert session.amount_total == 1000 and session.currency == "eur"
