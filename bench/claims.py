"""7. Claims: one claim of 200 due events, in a table holding only its backlog vs one holding 1,000,000 rows.

``core.pipeline.claims.claim_due`` (PostgreSQL and SQLite), each claim in a transaction that is rolled back (the
backlog stays the same), the two tables alternating in rounds so drift on a shared machine hits both;
medians. The tables are filled just before and never analysed — what a burst into a new deployment
meets, and where a plan chosen from statistics used to scan and sort every due row — then measured
again once analysed. For information, on PostgreSQL, the claim's locking SELECT alone on the
never-analysed big table, walking the index (as ``claim_due`` runs it) and planned from the statistics
alone (sorting allowed: the claim before issue 17). Target: the big table's claim
≥ 0.9x the empty table's speed, fresh and analysed.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from bench.common import Options, Result, database, make_host, postgres_available
from bench.processing import setup_world, store_events, store_history

LIMIT = 200
GROWTH = 0.9


def _claim_ms(host: Any, *, mode: str = "claim") -> float:
    """Milliseconds for one claim of ``LIMIT`` due events (rolled back).

    ``mode``: ``claim`` (``claim_due``: the locking SELECT and the UPDATE that leases the rows),
    ``select`` (its locking SELECT alone, sorting off as ``claim_due`` runs it) or ``planner`` (the same
    SELECT planned from statistics alone, sorting allowed).
    """
    from sqlalchemy import select

    from core.pipeline.claims import claim_due
    from core.store.dialect import claim_without_sorting, lock_for_claim
    from core.store.tables import inbound_events as t

    engine = host.store.engine
    stmt = lock_for_claim(engine, select(t).where(t.c.status == "pending", t.c.next_attempt_at <= host.clock.now())
                          .order_by(t.c.next_attempt_at).limit(LIMIT))
    with engine.connect() as c:
        tx = c.begin()
        started = time.perf_counter()
        if mode == "claim":
            rows = claim_due(c, engine, t, worker_id="bench", now=host.clock.now(), lease=timedelta(seconds=60),
                             limit=LIMIT)
        elif mode == "select":
            with claim_without_sorting(c):
                rows = c.execute(stmt).all()
        else:
            rows = c.execute(stmt).all()
        elapsed = time.perf_counter() - started
        tx.rollback()
    assert len(rows) == LIMIT
    return elapsed * 1000


def _rounds(hosts: dict[str, Any], rounds: int, per_round: int, **kwargs: Any) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in hosts}
    for _ in range(rounds):
        for name, host in hosts.items():
            samples[name].extend(_claim_ms(host, **kwargs) for _ in range(per_round))
    return {name: statistics.median(values) for name, values in samples.items()}


def _analyse(host: Any) -> None:
    with host.store.engine.begin() as c:
        c.exec_driver_sql("ANALYZE inbound_events")


def run(opts: Options) -> list[Result]:
    results: list[Result] = []
    for kind in opts.databases:
        if kind == "postgres" and not postgres_available():
            continue
        results.extend(_measure(opts, kind))
    return results


def _measure(opts: Options, kind: str) -> list[Result]:
    backlog, history = opts.pick((1_000, 20_000), (10_000, 1_000_000))
    rounds, per_round = opts.pick((2, 3), (5, 10))
    unplanned = walk = 0.0
    with database(kind, opts.work_dir) as empty_url, database(kind, opts.work_dir) as big_url:
        for url in (empty_url, big_url):
            setup_world(url)
        store_history(big_url, history)
        for url in (empty_url, big_url):
            store_events(url, backlog)
        hosts = {"empty": make_host(empty_url), "big": make_host(big_url)}
        try:
            fresh = _rounds(hosts, rounds, per_round)
            if kind == "postgres":  # SQLite has no statistics to mislead it until ANALYZE
                walk = _rounds({"big": hosts["big"]}, 1, per_round, mode="select")["big"]
                unplanned = _rounds({"big": hosts["big"]}, 1, min(per_round, 3), mode="planner")["big"]
            for host in hosts.values():
                _analyse(host)
            analysed = _rounds(hosts, rounds, per_round)
        finally:
            for host in hosts.values():
                host.close()
    results: list[Result] = []
    big_case = f"claim of {LIMIT}, {backlog:,} due in a {history:,}-row table"
    for label, figures in (("never analysed", fresh), ("analysed", analysed)):
        results.append(Result(bench="claims", case=f"claim of {LIMIT}, {backlog:,} due, nothing else ({label})",
                              db=kind, value=figures["empty"], unit="ms/claim",
                              details={"rounds": rounds, "per_round": per_round}))
        speed = figures["empty"] / figures["big"]
        results.append(Result(bench="claims", case=f"{big_case} ({label})", db=kind, value=figures["big"],
                              unit="ms/claim", baseline="table with the backlog only", baseline_value=figures["empty"],
                              ratio=speed, target=">= 0.9x the backlog-only table's speed", met=speed >= GROWTH,
                              details={"rounds": rounds, "per_round": per_round, "history_rows": history}))
    if unplanned:
        results.append(Result(bench="claims", case=f"{big_case}: its SELECT planned from statistics alone "
                              "(sorting allowed, as before issue 17; never analysed)", db=kind, value=unplanned,
                              unit="ms/select", baseline="the claim's SELECT walking the index", baseline_value=walk,
                              ratio=walk / unplanned, details={"rounds": 1}))
    return results
