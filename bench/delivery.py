"""4. Delivery: outbox rows → a local receiver that answers 200, by one worker (the host's ``Deliverer``).

Baseline in the same run, against the same receiver: a plain async httpx loop posting the same bodies
with the same concurrency (``delivery_concurrency``, 64) and no database. The receiver is a separate
process (bench/receiver.py). Targets: ≥ 1,000 deliveries/s and ≥ 0.6x the baseline.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import Options, Result, database, free_port, make_host, postgres_available, process, python
from bench.events import checkout_completed

TARGET_RPS = 1000.0


def _bodies(n: int) -> list[str]:
    import json

    return [json.dumps({"id": f"ev_{i}", "type": "purchase.completed", "version": 1, "tenant_id": "ten_bench",
                        "data": checkout_completed(i)["data"]["object"]["customer_details"]},
                       separators=(",", ":")) for i in range(n)]


def _store(host: Any, url: str, bodies: list[str]) -> None:
    from core.ids import new_id
    from core.store.tables import deliveries

    secret = host.secrets.encrypt("whsec_" + "QmVuY2hTZWNyZXRGb3JEZWxpdmVyaWVz")
    now = datetime.now(UTC)
    rows = [dict(id=new_id("msg"), tenant_id="ten_bench", integration="bench", subscription_id=None,
                 domain_event_id=None, event_type="purchase.completed", target_url=url, payload=body, secret=secret,
                 status="pending", attempts=0, next_attempt_at=now, created_at=now) for body in bodies]
    with host.store.engine.begin() as c:
        for start in range(0, len(rows), 2000):
            c.execute(deliveries.insert(), rows[start:start + 2000])


async def _baseline(url: str, bodies: list[str], concurrency: int) -> float:
    import httpx

    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # trust_env=False as the deliverer does (loopback: no proxy or netrc look-ups; with them httpx is ~1.5x slower)
    async with httpx.AsyncClient(limits=limits, timeout=10, trust_env=False) as client:

        async def one(body: str) -> None:
            async with gate:
                response = await client.post(url, content=body.encode(), headers={"content-type": "application/json"})
                assert response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return time.perf_counter() - started


def run(opts: Options) -> list[Result]:
    n = opts.pick(200, 10_000)
    results: list[Result] = []
    port = free_port()
    target = f"http://127.0.0.1:{port}/hooks/purchase"
    with process([python(), "-m", "bench.receiver", "--port", str(port), "--seconds", "900"], port=port):
        for kind in opts.databases:
            if kind == "postgres" and not postgres_available():
                continue
            with database(kind, opts.work_dir) as url:
                host = make_host(url)
                try:
                    bodies = _bodies(n)
                    concurrency = host.pipeline.config.delivery_concurrency
                    asyncio.run(_baseline(target, bodies[:100], concurrency))  # warm up
                    base_s = asyncio.run(_baseline(target, bodies, concurrency))
                    _store(host, target, bodies)
                    started = time.perf_counter()
                    report = asyncio.run(host.pipeline.deliverer.drain())
                    host_s = time.perf_counter() - started
                finally:
                    host.close()
            rps, base_rps = report.delivered / host_s, n / base_s
            ratio = rps / base_rps
            results.append(Result(bench="delivery", case="1 worker", db=kind, value=rps, unit="deliveries/s",
                                  baseline="plain async httpx loop", baseline_value=base_rps, ratio=ratio,
                                  target=">= 1,000/s and >= 0.6x baseline",
                                  met=rps >= TARGET_RPS and ratio >= 0.6 and report.delivered == n,
                                  details={"delivered": report.delivered, "rows": n, "seconds": host_s,
                                           "baseline_seconds": base_s, "concurrency": concurrency}))
    return results
