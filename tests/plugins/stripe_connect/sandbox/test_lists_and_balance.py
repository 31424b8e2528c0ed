"""Lists as Stripe pages them (products, prices, payouts, disputes), Stripe's charge amount limits, and the balance."""

from __future__ import annotations

import pytest
import stripe


def _options(account):
    return {"stripe_account": account}


def _products(kit, account, names):
    return [kit.client.v1.products.create({"name": name}, _options(account)) for name in names]


def _price(kit, account, amount, currency="usd", **extra):
    product = kit.client.v1.products.create({"name": "Course"}, _options(account))
    return kit.client.v1.prices.create(
        {"product": product.id, "unit_amount": amount, "currency": currency, **extra}, _options(account)
    )


def _session(kit, account, price, mode="payment"):
    return kit.client.v1.checkout.sessions.create(
        {"mode": mode, "line_items": [{"price": price.id, "quantity": 1}], "success_url": "https://site.example/ok"},
        _options(account),
    )


def test_products_are_listed_newest_first_a_page_at_a_time(kit):
    account = kit.connected_account(verified=True)
    first, second, third = _products(kit, account, ["One", "Two", "Three"])
    page = kit.client.v1.products.list({"limit": 2}, _options(account))
    assert [p.id for p in page.data] == [third.id, second.id]
    assert page.has_more is True and page.url == "/v1/products"
    rest = kit.client.v1.products.list({"limit": 2, "starting_after": second.id}, _options(account))
    assert [p.id for p in rest.data] == [first.id] and rest.has_more is False
    back = kit.client.v1.products.list({"ending_before": first.id}, _options(account))
    assert [p.id for p in back.data] == [third.id, second.id]
    walked = [p.id for p in kit.client.v1.products.list({"limit": 1}, _options(account)).auto_paging_iter()]
    assert walked == [third.id, second.id, first.id]


def test_a_product_list_shows_the_callers_account_only(kit):
    account, other = kit.connected_account(verified=True), kit.connected_account(verified=True)
    _products(kit, other, ["Elsewhere"])
    kit.client.v1.products.create({"name": "Platform's own"})
    assert kit.client.v1.products.list({}, _options(account)).data == []


def test_archived_products_are_filtered_by_active(kit):
    account = kit.connected_account(verified=True)
    kept, archived = _products(kit, account, ["Kept", "Archived"])
    kit.client.v1.products.update(archived.id, {"active": False}, _options(account))
    assert [p.id for p in kit.client.v1.products.list({"active": True}, _options(account)).data] == [kept.id]
    assert [p.id for p in kit.client.v1.products.list({"active": False}, _options(account)).data] == [archived.id]


def test_a_cursor_that_is_not_in_the_list_is_no_such_product(kit):
    account = kit.connected_account(verified=True)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.products.list({"starting_after": "prod_nothere"}, _options(account))
    assert excinfo.value.code == "resource_missing" and excinfo.value.param == "starting_after"
    assert "No such product: 'prod_nothere'" in str(excinfo.value)


def test_list_parameters_are_checked_like_every_other(kit):
    account = kit.connected_account(verified=True)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.products.list({"limit": 101}, _options(account))
    assert excinfo.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.prices.list({"metadata": {"a": "b"}}, _options(account))  # type: ignore[typeddict-unknown-key]
    assert excinfo.value.code == "parameter_unknown"


def test_prices_are_filtered_by_product_active_and_type(kit):
    account = kit.connected_account(verified=True)
    one_time = _price(kit, account, 2500)
    monthly = _price(kit, account, 900, recurring={"interval": "month"})
    kit.client.v1.prices.update(one_time.id, {"active": False}, _options(account))
    by_product = kit.client.v1.prices.list({"product": monthly.product}, _options(account)).data
    assert [p.id for p in by_product] == [monthly.id]
    assert [p.id for p in kit.client.v1.prices.list({"active": False}, _options(account)).data] == [one_time.id]
    assert [p.id for p in kit.client.v1.prices.list({"type": "recurring"}, _options(account)).data] == [monthly.id]
    listed = kit.client.v1.prices.list({"expand": ["data.product"]}, _options(account)).data
    assert {p.product.object for p in listed} == {"product"}


@pytest.mark.parametrize(("currency", "too_small", "smallest", "message"), [
    ("usd", 49, 50, "must add up to at least $0.50 usd"),
    ("gbp", 29, 30, "must add up to at least £0.30 gbp"),
    ("jpy", 49, 50, "must add up to at least ¥50 jpy"),
    ("hkd", 399, 400, "must add up to at least $4.00 hkd"),
])
def test_checkout_refuses_a_total_below_the_currencys_minimum_charge(kit, currency, too_small, smallest, message):
    account = kit.connected_account(verified=True)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _session(kit, account, _price(kit, account, too_small, currency))
    assert excinfo.value.code == "amount_too_small" and message in str(excinfo.value)
    assert _session(kit, account, _price(kit, account, smallest, currency)).amount_total == smallest


def test_checkout_refuses_a_total_above_eight_digits(kit):
    account = kit.connected_account(verified=True)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _session(kit, account, _price(kit, account, 9_999_999_999_900))
    assert excinfo.value.code == "amount_too_large" and "no more than $999,999.99" in str(excinfo.value)
    assert _session(kit, account, _price(kit, account, 99_999_999)).amount_total == 99_999_999


def test_a_free_first_month_of_a_subscription_is_allowed(kit):
    account = kit.connected_account(verified=True)
    session = _session(kit, account, _price(kit, account, 0, recurring={"interval": "month"}), mode="subscription")
    assert session.amount_total == 0


def test_a_sale_is_pending_for_two_days_then_available(kit):
    account = kit.connected_account(verified=True)
    fresh = kit.client.v1.balance.retrieve(None, _options(account))
    assert fresh.object == "balance" and fresh.available[0].amount == 0 and fresh.available[0].currency == "usd"
    assert "connect_reserved" not in fresh
    kit.paid_session(account, amount=2500, fee=250)
    balance = kit.client.v1.balance.retrieve(None, _options(account))
    assert (balance.pending[0].amount, balance.available[0].amount) == (2250, 0)
    kit.control("/clock", {"advance": 2 * 86400})
    balance = kit.client.v1.balance.retrieve(None, _options(account))
    assert (balance.pending[0].amount, balance.available[0].amount) == (0, 2250)


def test_payouts_and_disputes_come_out_of_the_available_balance(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account, amount=5000, fee=None)
    kit.control("/clock", {"advance": 3 * 86400})
    payout = kit.control(f"/accounts/{account}/payouts", {"amount": 1000})
    charge = kit.client.v1.payment_intents.retrieve(session.payment_intent, None, _options(account)).latest_charge
    dispute = kit.control(f"/charges/{charge}/dispute", {"amount": 1500})
    assert kit.client.v1.balance.retrieve(None, _options(account)).available[0].amount == 2500
    kit.control(f"/payouts/{payout['id']}/failed")  # the bank sent it back
    kit.control(f"/disputes/{dispute['id']}/close", {"outcome": "won"})
    assert kit.client.v1.balance.retrieve(None, _options(account)).available[0].amount == 5000


def test_payouts_are_listed_newest_first_and_filtered_by_status(kit):
    account = kit.connected_account(verified=True)
    older = kit.control(f"/accounts/{account}/payouts", {"amount": 1000})
    kit.control("/clock", {"advance": 60})
    newer = kit.control(f"/accounts/{account}/payouts", {"amount": 2000})
    kit.control(f"/payouts/{older['id']}/paid")
    listed = kit.client.v1.payouts.list({}, _options(account))
    assert [p.id for p in listed.data] == [newer["id"], older["id"]] and listed.url == "/v1/payouts"
    assert [p.id for p in kit.client.v1.payouts.list({"status": "paid"}, _options(account)).data] == [older["id"]]
    now = int(kit.control("/clock")["now"])
    upcoming = kit.client.v1.payouts.list({"arrival_date": {"gt": now}}, _options(account))
    assert {p.id for p in upcoming.data} == {older["id"], newer["id"]}


def test_disputes_are_listed_with_the_date_to_respond_by(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account)
    charge = kit.client.v1.payment_intents.retrieve(session.payment_intent, None, _options(account)).latest_charge
    opened = kit.control(f"/charges/{charge}/dispute")
    listed = kit.client.v1.disputes.list({"charge": charge}, _options(account)).data
    assert [d.id for d in listed] == [opened["id"]]
    assert listed[0].status == "needs_response" and listed[0].evidence_details.due_by > listed[0].created
    assert kit.client.v1.disputes.list({"charge": "ch_other"}, _options(account)).data == []


def test_the_dashboards_deeper_links_open_the_accounts_dashboard(kit):
    account = kit.connected_account(verified=True)
    page = kit.http.get(f"/dashboard/{account}/test/payouts/po_123")
    assert page.status_code == 200 and account in page.text
