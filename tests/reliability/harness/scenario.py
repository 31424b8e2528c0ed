"""One load run against a fleet: send the events (with chaos alongside, if any), wait for the
pipeline to settle, and collect what the database and the receiver say.

Chaos is an async function given the sender; it runs blocking work (kills, restarts, SQL) in threads
so the sender keeps sending while it happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx

from harness import ledger as ledger_mod
from harness import sizes
from harness.load import LoadReport, Sender, plan
from harness.processes import Fleet, ManagedProcess
from harness.receiver import Receipt, receipts_from_json
from harness.stripe_events import SignedEvent, make_events
from harness.world import WEBHOOK_SECRET, Deployment

Chaos = Callable[[Sender], Awaitable[Any]]


@attrs.define
class Run:
    events: list[SignedEvent]
    load: LoadReport
    ledger: ledger_mod.Ledger
    receipts: list[Receipt]
    expected_deliveries: int
    subscription_of_delivery: dict[str, str]
    chaos: Any = None

    @property
    def expected_ids(self) -> set[str]:
        return {e.event_id for e in self.events}


def expected_deliveries(events: list[SignedEvent], subscriptions_per_account: dict[str, int]) -> int:
    return sum(subscriptions_per_account[e.account] for e in events)


async def _drive(sender: Sender, jobs: list[tuple[str, SignedEvent]], chaos: Chaos | None) -> tuple[LoadReport, Any]:
    load = asyncio.ensure_future(sender.run(jobs))
    result = None
    if chaos is not None:
        result = await chaos(sender)
    return await load, result


def fetch_receipts(receiver: ManagedProcess) -> list[Receipt]:
    answer = httpx.get(f"{receiver.url}/_received", timeout=60)
    answer.raise_for_status()
    return receipts_from_json(answer.json())


def run_load(deployment: Deployment, fleet: Fleet, receiver: ManagedProcess, *, events: int, run_id: str,
             chaos: Chaos | None = None) -> Run:
    accounts = [site.account for site in deployment.sites]
    signed = make_events(events, accounts, run=run_id)
    jobs = plan(signed, sizes.DUPLICATE_SHARE)
    sender = Sender(lambda: fleet.urls, WEBHOOK_SECRET, in_flight=sizes.IN_FLIGHT)
    load, chaos_result = asyncio.run(_drive(sender, jobs, chaos))
    expected = expected_deliveries(signed, deployment.subscriptions_per_account())
    engine = ledger_mod.engine_for(deployment.database_url)
    try:
        settled = ledger_mod.wait_until_settled(engine, events, expected, timeout=sizes.DRAIN_SECONDS)
        with engine.connect() as c:
            from sqlalchemy import select

            from core.store.tables import deliveries

            subscription_of = {row.id: row.subscription_id for row in
                               c.execute(select(deliveries.c.id, deliveries.c.subscription_id))}
    finally:
        engine.dispose()
    return Run(events=signed, load=load, ledger=settled, receipts=fetch_receipts(receiver),
               expected_deliveries=expected, subscription_of_delivery=subscription_of, chaos=chaos_result)
