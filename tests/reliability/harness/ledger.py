"""The totals a run must end with, read back from the database (the pipeline's own tables).

``Ledger.read`` takes one consistent look; ``wait_until_settled`` polls (bounded) until every
inbound event is finished and every delivery has left the queue, then the tests assert on it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import attrs
from sqlalchemy import Engine, create_engine, func, select

from core.store.dialect import normalise_url
from core.store.tables import deliveries, domain_events, inbound_events

STRIPE = "stripe_connect"
PURCHASE = "purchase.completed"


@attrs.frozen
class Ledger:
    inbound: int
    distinct_external_ids: int
    inbound_by_status: dict[str, int]
    attempts: Counter[int]
    """How many inbound events took 1, 2, ... processing attempts (handler runs with a recorded result)."""
    claims: Counter[int]
    """How many inbound events were claimed 1, 2, ... times (a claim whose worker died counts here only)."""
    external_ids: frozenset[str]
    purchases: int
    purchases_per_inbound: Counter[int]
    """How many inbound events have 0, 1, 2... ``purchase.completed`` domain events."""
    inbound_without_purchase: int
    purchase_sessions: frozenset[str]
    deliveries: int
    deliveries_by_status: dict[str, int]
    delivery_ids: frozenset[str]
    deliveries_per_event_and_subscription: Counter[int]
    delivery_attempts: Counter[int]

    @property
    def settled(self) -> bool:
        pending = self.inbound_by_status.get("pending", 0) + self.deliveries_by_status.get("pending", 0)
        return pending == 0

    def summary(self) -> str:
        return (f"inbound={self.inbound} ({self.inbound_by_status}), purchases={self.purchases}, "
                f"deliveries={self.deliveries} ({self.deliveries_by_status})")


def engine_for(url: str) -> Engine:
    return create_engine(normalise_url(url), pool_pre_ping=True)


def read(engine: Engine) -> Ledger:
    with engine.connect() as c:
        inbound_rows = c.execute(select(inbound_events.c.id, inbound_events.c.external_id, inbound_events.c.status,
                                        inbound_events.c.attempts, inbound_events.c.claims)
                                 .where(inbound_events.c.integration == STRIPE)).all()
        purchases = c.execute(select(domain_events.c.inbound_event_id, domain_events.c.data)
                              .where(domain_events.c.type == PURCHASE)).all()
        delivery_rows = c.execute(select(deliveries.c.id, deliveries.c.status, deliveries.c.domain_event_id,
                                         deliveries.c.subscription_id, deliveries.c.attempts)
                                  .where(deliveries.c.event_type == PURCHASE)).all()
        per_pair = c.execute(select(func.count()).select_from(deliveries)
                             .where(deliveries.c.event_type == PURCHASE)
                             .group_by(deliveries.c.domain_event_id, deliveries.c.subscription_id)).scalars().all()
    per_inbound = Counter(p.inbound_event_id for p in purchases)
    return Ledger(
        inbound=len(inbound_rows),
        distinct_external_ids=len({r.external_id for r in inbound_rows}),
        inbound_by_status=dict(Counter(r.status for r in inbound_rows)),
        attempts=Counter(r.attempts for r in inbound_rows),
        claims=Counter(r.claims for r in inbound_rows),
        external_ids=frozenset(r.external_id for r in inbound_rows),
        purchases=len(purchases),
        purchases_per_inbound=Counter(per_inbound.get(r.id, 0) for r in inbound_rows),
        inbound_without_purchase=sum(1 for r in inbound_rows if r.id not in per_inbound),
        purchase_sessions=frozenset((p.data.get("provider_refs") or {}).get("checkout_session") for p in purchases),
        deliveries=len(delivery_rows),
        deliveries_by_status=dict(Counter(r.status for r in delivery_rows)),
        delivery_ids=frozenset(r.id for r in delivery_rows),
        deliveries_per_event_and_subscription=Counter(per_pair),
        delivery_attempts=Counter(r.attempts for r in delivery_rows),
    )


def wait_until_settled(engine: Engine, expected_inbound: int, expected_deliveries: int, *, timeout: float,
                       on_poll: Callable[[Ledger], None] | None = None, poll: float = 1.0) -> Ledger:
    """Poll until all ``expected_inbound`` events are finished and every delivery left the queue."""
    deadline = time.monotonic() + timeout
    while True:
        ledger = read(engine)
        if on_poll is not None:
            on_poll(ledger)
        done = (ledger.inbound >= expected_inbound and ledger.settled
                and ledger.deliveries >= expected_deliveries)
        if done or time.monotonic() > deadline:
            return ledger
        time.sleep(poll)
