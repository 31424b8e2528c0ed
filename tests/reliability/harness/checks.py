"""The promise of the pipeline, as assertions over a finished run: every event stored once, processed
once into exactly one domain event, one delivery per subscription, and every delivery received by
its target under its stable ``webhook-id`` (a repeat only as a retry of the same message).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from standardwebhooks import Webhook

from harness.receiver import Receipt
from harness.scenario import Run


def assert_every_event_stored_once(run: Run) -> None:
    ledger = run.ledger
    assert not run.load.refused, f"the host refused authentic events: {run.load.refused[:3]}"
    assert not run.load.gave_up, f"the sender never got a 2xx for {len(run.load.gave_up)} event(s)"
    assert ledger.inbound == len(run.events), ledger.summary()
    assert ledger.distinct_external_ids == len(run.events)
    assert ledger.external_ids == run.expected_ids


def assert_every_event_processed_once(run: Run) -> None:
    ledger = run.ledger
    assert ledger.inbound_by_status == {"processed": len(run.events)}, ledger.summary()
    assert ledger.purchases == len(run.events), ledger.summary()
    assert ledger.purchases_per_inbound == {1: len(run.events)}, (
        f"domain events per inbound event: {dict(ledger.purchases_per_inbound)}")
    assert ledger.purchase_sessions == {e.session_id for e in run.events}


def assert_one_delivery_per_subscription(run: Run) -> None:
    ledger = run.ledger
    assert ledger.deliveries == run.expected_deliveries, ledger.summary()
    assert ledger.deliveries_per_event_and_subscription == {1: run.expected_deliveries}
    assert ledger.deliveries_by_status == {"delivered": run.expected_deliveries}, ledger.summary()


def receipts_by_id(receipts: list[Receipt]) -> dict[str, list[Receipt]]:
    grouped: dict[str, list[Receipt]] = defaultdict(list)
    for receipt in receipts:
        grouped[receipt.webhook_id].append(receipt)
    return grouped


def assert_receiver_has_every_webhook_id(run: Run, secrets: dict[str, str]) -> None:
    """Every delivery arrived; repeats carry the same body (retries); every signature verifies."""
    grouped = receipts_by_id(run.receipts)
    assert set(grouped) == set(run.ledger.delivery_ids), (
        f"missing at the receiver: {len(set(run.ledger.delivery_ids) - set(grouped))}, "
        f"unknown ids: {len(set(grouped) - set(run.ledger.delivery_ids))}")
    for webhook_id, copies in grouped.items():
        assert len({c.body for c in copies}) == 1, f"{webhook_id} arrived with different bodies"
        assert any(200 <= c.answered < 300 for c in copies), f"{webhook_id} was never answered 2xx"
        secret = secrets[run.subscription_of_delivery[webhook_id]]
        for copy in copies:
            assert_signed(copy, secret)


def assert_signed(receipt: Receipt, secret: str) -> None:
    when = datetime.fromtimestamp(int(receipt.timestamp), UTC)
    expected = Webhook(secret).sign(receipt.webhook_id, when, receipt.body)
    assert expected in receipt.signature.split(" "), f"{receipt.webhook_id}: webhook-signature does not verify"


def repeats_at_receiver(run: Run) -> int:
    return sum(len(copies) - 1 for copies in receipts_by_id(run.receipts).values())


def assert_nothing_lost(run: Run, secrets: dict[str, str]) -> None:
    assert_every_event_stored_once(run)
    assert_every_event_processed_once(run)
    assert_one_delivery_per_subscription(run)
    assert_receiver_has_every_webhook_id(run, secrets)
