"""7. Observers: processing with one observing plugin ÷ processing without one.

Observers run after the commit, in workers: emitting a domain event only adds one ``observations`` row
per observing plugin (one SELECT of connections and one INSERT per batch); the plugin itself runs in
the observing stage. The world is the processing benchmark's (a tenant with Stripe connected, one
subscription, stored ``checkout.session.completed`` events); in the observed run a second plugin,
connected for the tenant, observes ``purchase.completed`` and queues one message per sale with
``ctx.deliver`` (what the Slack example does). Each run is a fresh database; one worker drains the
events (``Processor.drain``), and the ratio is events/s with the observer ÷ without (target ≥ 0.8x).
The observed run then drains its observations (``Observer.drain``): the observing stage's own rate is
the second row, for information (in a ``worker`` it runs beside processing and shares its cores).
Each case runs twice, interleaved, and the best of each counts.
"""

from __future__ import annotations

import time
from typing import Any

import pluggy

from bench.common import Options, Result, database, make_host, postgres_available
from bench.events import NAME
from bench.processing import setup_world, store_events

TARGET = 0.8
ROUNDS = 2
OBSERVER = "bench_observer"
hookimpl = pluggy.HookimplMarker("intellectra")


class BenchObserver:
    """Posts each sale somewhere, like the Slack example: one ``ctx.deliver`` per observed event."""

    @hookimpl
    def integration_info(self) -> Any:
        from core.models import IntegrationInfo

        return IntegrationInfo(name=OBSERVER, title="Bench observer", description="Posts every sale to a channel.",
                               observes={"purchase.completed"})

    @hookimpl
    def on_domain_event(self, ctx: Any, event: Any) -> None:
        ctx.deliver(to=ctx.secret("url"), json={"text": f"New sale: {event.data['amount']}"})


def drain(url: str, events: int, *, observed: bool) -> dict[str, Any]:
    """One worker processes ``events`` stored events, then (observed run) observes them; rates of each."""
    from core.models import Connected

    host = make_host(url)
    try:
        if observed:
            host.plugins.register(OBSERVER, BenchObserver())
            (tenant,) = host.tenants.list()
            host.connections.save_connected(tenant, OBSERVER, Connected(secrets={"url": "http://127.0.0.1:9/chan"}),
                                            actor="bench")
        started = time.perf_counter()
        processed = host.pipeline.processor.drain().processed
        processing_s = time.perf_counter() - started
        started = time.perf_counter()
        observed_count = host.pipeline.observer.drain().observed
        observing_s = time.perf_counter() - started
        return {"events": events, "processed": processed, "processing_s": processing_s,
                "rps": processed / processing_s, "observed": observed_count, "observing_s": observing_s,
                "observations_per_s": observed_count / observing_s if observed_count else None}
    finally:
        host.close()


def run(opts: Options) -> list[Result]:
    n = opts.pick(200, 10_000)
    results: list[Result] = []
    for kind in opts.databases:
        if kind == "postgres" and not postgres_available():
            continue
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for _ in range(ROUNDS):  # interleaved, best of each: a shared machine's load moves between runs
            for observed in (False, True):
                with database(kind, opts.work_dir) as url:
                    setup_world(url)
                    store_events(url, n)
                    runs[observed].append(drain(url, n, observed=observed))
        with_observer = max(runs[True], key=lambda r: r["rps"])
        without = max(runs[False], key=lambda r: r["rps"])
        with_observer["observations_per_s"] = max(r["observations_per_s"] or 0.0 for r in runs[True])
        ratio = with_observer["rps"] / without["rps"]
        results.append(Result(
            bench="observers", case="processing with one observing plugin", db=kind, value=with_observer["rps"],
            unit="events/s", baseline="without", baseline_value=without["rps"], ratio=ratio,
            target=">= 0.8x without", met=ratio >= TARGET and with_observer["processed"] == n,
            details={"with": with_observer, "without": without, "integration": NAME}))
        rate = with_observer["observations_per_s"] or 0.0
        results.append(Result(
            bench="observers", case="observing, 1 worker (the plugin's turns)", db=kind, value=rate,
            unit="observations/s", baseline="processing without", baseline_value=without["rps"],
            ratio=rate / without["rps"], details={"observed": with_observer["observed"], "events": n}))
    return results
