"""Refunds, disputes, payouts, the events list, and webhook delivery (retries, duplicates)."""

from __future__ import annotations

import pytest
import stripe


def test_refund_emits_charge_refunded_on_the_connected_account(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account, amount=2500)
    refund = kit.client.v1.refunds.create(
        {"payment_intent": session.payment_intent, "amount": 1000}, {"stripe_account": account}
    )
    assert refund.object == "refund" and refund.status == "succeeded" and refund.amount == 1000
    event = kit.receiver.wait_for_event("charge.refunded")[0]
    assert event["account"] == account
    assert event["data"]["object"]["amount_refunded"] == 1000
    assert event["data"]["object"]["refunded"] is False
    assert event["data"]["previous_attributes"] == {"amount_refunded": 0}


def test_refunding_more_than_what_remains_is_rejected(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.refunds.create(
            {"payment_intent": session.payment_intent, "amount": 5000}, {"stripe_account": account}
        )
    assert excinfo.value.param == "amount"


def test_refunding_a_fully_refunded_charge_is_charge_already_refunded(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account)
    kit.client.v1.refunds.create({"payment_intent": session.payment_intent}, {"stripe_account": account})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.refunds.create({"payment_intent": session.payment_intent}, {"stripe_account": account})
    assert excinfo.value.code == "charge_already_refunded"


def test_refund_needs_a_charge_or_payment_intent(kit):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        kit.client.v1.refunds.create({"amount": 100})
    assert excinfo.value.code == "parameter_missing"


def test_dispute_opened_and_closed_emit_charge_dispute_events(kit):
    account = kit.connected_account(verified=True)
    session = kit.paid_session(account)
    intent = kit.client.v1.payment_intents.retrieve(session.payment_intent, None, {"stripe_account": account})
    dispute = kit.control(f"/charges/{intent.latest_charge}/dispute", {"reason": "fraudulent"})
    created = kit.receiver.wait_for_event("charge.dispute.created")[0]
    assert created["account"] == account
    assert created["data"]["object"]["id"] == dispute["id"]
    assert created["data"]["object"]["status"] == "needs_response"
    kit.control(f"/disputes/{dispute['id']}/close", {"outcome": "lost"})
    closed = kit.receiver.wait_for_event("charge.dispute.closed")[0]
    assert closed["data"]["object"]["status"] == "lost"
    assert closed["data"]["previous_attributes"] == {"status": "needs_response"}


def test_payout_paid_and_failed_emit_payout_events(kit):
    account = kit.connected_account(verified=True)
    first = kit.control(f"/accounts/{account}/payouts", {"amount": 5000})
    second = kit.control(f"/accounts/{account}/payouts", {"amount": 700})
    kit.control(f"/payouts/{first['id']}/paid")
    kit.control(f"/payouts/{second['id']}/failed", {"failure_code": "account_closed"})
    paid = kit.receiver.wait_for_event("payout.paid")[0]
    failed = kit.receiver.wait_for_event("payout.failed")[0]
    assert paid["account"] == account and paid["data"]["object"]["status"] == "paid"
    assert failed["data"]["object"]["failure_code"] == "account_closed"
    retrieved = kit.client.v1.payouts.retrieve(second["id"], None, {"stripe_account": account})
    assert retrieved.status == "failed"


def test_events_have_stripes_event_shape(kit):
    account = kit.connected_account(verified=True)
    kit.paid_session(account)
    event = kit.receiver.wait_for_event("checkout.session.completed")[0]
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["api_version"] == kit.API_VERSION
    assert isinstance(event["created"], int)
    assert event["livemode"] is False
    assert set(event["request"]) == {"id", "idempotency_key"}
    assert event["pending_webhooks"] == 1


def test_events_list_for_a_connected_account_paginates_newest_first(kit):
    account = kit.connected_account(verified=True)
    for index in range(5):
        kit.client.v1.products.create({"name": f"Course {index}"}, {"stripe_account": account})
    options = {"stripe_account": account}
    first = kit.client.v1.events.list({"limit": 2, "type": "product.created"}, options)
    assert first.object == "list" and first.has_more is True and len(first.data) == 2
    assert first.data[0].data.object.name == "Course 4"
    second = kit.client.v1.events.list(
        {"limit": 2, "type": "product.created", "starting_after": first.data[-1].id}, options
    )
    assert [e.data.object.name for e in second.data] == ["Course 2", "Course 1"]
    everything = list(kit.client.v1.events.list({"type": "product.created", "limit": 2}, options).auto_paging_iter())
    assert len(everything) == 5
    assert all(e.account == account for e in everything)


def test_events_list_filters_by_created_and_excludes_other_accounts(kit):
    account = kit.connected_account(verified=True)
    other = kit.connected_account(verified=True)
    kit.client.v1.products.create({"name": "Old"}, {"stripe_account": account})
    kit.control("/clock", {"advance": 3600})
    cutoff = int(kit.http.get("/_sandbox/clock").json()["now"])
    kit.client.v1.products.create({"name": "New"}, {"stripe_account": account})
    kit.client.v1.products.create({"name": "Other"}, {"stripe_account": other})
    events = kit.client.v1.events.list({"created": {"gte": cutoff}}, {"stripe_account": account})
    assert [e.data.object.name for e in events.data] == ["New"]
    assert kit.client.v1.events.list({"type": "product.created"}).data == []  # platform's own events


def test_webhook_is_retried_after_the_receiver_fails(kit):
    kit.receiver.fail_next(2)
    account = kit.connected_account(verified=True)
    kit.control(f"/accounts/{account}/requirements", {"past_due": ["external_account"]})
    event = kit.receiver.wait_for_event("account.updated")[0]
    attempts = kit.receiver.wait_for(
        lambda: (lambda a: a if len(a) >= 3 else None)(
            kit.http.get("/_sandbox/webhook_attempts", params={"event": event["id"]}).json()["data"]
        )
    )
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [a["trigger"] for a in attempts] == ["initial", "retry", "retry"]
    listed = kit.client.v1.events.list({"type": "account.updated"}, {"stripe_account": account})
    kit.receiver.wait_for(
        lambda: kit.client.v1.events.retrieve(event["id"], None, {"stripe_account": account}).pending_webhooks == 0
    )
    assert listed.data[0].id == event["id"]


def test_webhook_to_an_unreachable_endpoint_is_recorded_as_a_failed_attempt(kit):
    kit.server.sandbox.add_webhook_endpoint("http://127.0.0.1:9/unreachable", "whsec_unreachable")
    account = kit.connected_account(verified=True)
    kit.control(f"/accounts/{account}/requirements", {"past_due": ["external_account"]})
    failed = kit.receiver.wait_for(
        lambda: [
            a for a in kit.http.get("/_sandbox/webhook_attempts").json()["data"] if a["url"].endswith("/unreachable")
        ]
    )
    assert failed[0]["succeeded"] is False and failed[0]["error"]


def test_resending_an_event_delivers_the_same_event_id_several_times(kit):
    account = kit.connected_account(verified=True)
    kit.control(f"/accounts/{account}/requirements", {"past_due": ["external_account"]})
    event = kit.receiver.wait_for_event("account.updated")[0]
    kit.control(f"/events/{event['id']}/resend", {"times": 3, "concurrent": True})
    copies = kit.receiver.wait_for_event("account.updated", count=4)
    assert {e["id"] for e in copies} == {event["id"]}
    for delivery in kit.receiver.received:
        stripe.WebhookSignature.verify_header(
            delivery["body"], delivery["headers"]["Stripe-Signature"], kit.WEBHOOK_SECRET, tolerance=300
        )


def test_webhook_endpoint_added_after_start_receives_events(kit, second_receiver):
    kit.server.sandbox.add_webhook_endpoint(second_receiver.url, "whsec_second")
    account = kit.connected_account(verified=True)
    kit.control(f"/accounts/{account}/requirements", {"past_due": ["external_account"]})
    delivery = second_receiver.wait_for(lambda: second_receiver.received)[0]
    stripe.WebhookSignature.verify_header(
        delivery["body"], delivery["headers"]["Stripe-Signature"], "whsec_second", tolerance=300
    )
