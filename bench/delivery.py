"""4. Delivery: outbox rows → a local receiver that answers 200, by one worker (the host's ``Deliverer``).

Baselines in the same run, against the same receiver (bench/receiver.py, its own process), posting the
same bodies with the same concurrency (``delivery_concurrency``, 64) and no database: raw client loops,
aiohttp and httpx, each with connections reused and with a new connection per POST. The raw aiohttp
loop with reuse is the ceiling the deliverer is compared with. Everything runs on the loop ``worker``
runs on (:func:`core.server_stack.run`: uvloop).

Cases (targets from issue 17): one worker over 10,000 rows (≥ 3,000 deliveries/s and ≥ 0.3x the raw
aiohttp loop with reuse), and over 100,000 rows on PostgreSQL (÷ the 10,000 rows, ≥ 0.9; on PostgreSQL
the 10,000-row run is made before and after the 100,000 one and counted together, so a change in the
machine's load during the long run hits the baseline too).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import Options, Result, database, free_port, make_host, postgres_available, process, python
from bench.events import checkout_completed
from core import server_stack

TARGET_RPS = 3000.0
TARGET_RATIO = 0.3
GROWTH = 0.9
CONCURRENCY = 64


def _bodies(n: int) -> list[str]:
    import json

    return [json.dumps({"id": f"ev_{i}", "type": "purchase.completed", "version": 1, "tenant_id": "ten_bench",
                        "data": checkout_completed(i)["data"]["object"]["customer_details"]},
                       separators=(",", ":")) for i in range(n)]


def _store(host: Any, url: str, count: int) -> None:
    """``count`` due deliveries, made and inserted 2,000 at a time (none kept: the worker's heap stays small)."""
    from core.ids import new_id
    from core.store.tables import deliveries

    secret = host.secrets.encrypt("whsec_" + "QmVuY2hTZWNyZXRGb3JEZWxpdmVyaWVz")
    now = datetime.now(UTC)
    with host.store.engine.begin() as c:
        for start in range(0, count, 2000):
            rows = [dict(id=new_id("msg"), tenant_id="ten_bench", integration="bench", subscription_id=None,
                         domain_event_id=None, event_type="purchase.completed", target_url=url, payload=body,
                         secret=secret, status="pending", attempts=0, next_attempt_at=now, created_at=now)
                    for body in _bodies(min(2000, count - start))]
            c.execute(deliveries.insert(), rows)


async def _gated(bodies: list[str], post: Callable[[bytes], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(body: str) -> None:
        async with gate:
            await post(body.encode())

    started = time.perf_counter()
    await asyncio.gather(*(one(b) for b in bodies))
    return time.perf_counter() - started


async def raw_aiohttp(url: str, bodies: list[str], *, reuse: bool) -> float:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=not reuse)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes) -> None:
            async with session.post(url, data=body, headers={"content-type": "application/json"}) as response:
                await response.read()
                assert response.status == 200

        return await _gated(bodies, post)


async def raw_httpx(url: str, bodies: list[str], *, reuse: bool) -> float:
    import httpx

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY if reuse else 0)
    # trust_env=False (loopback: no proxy or netrc look-ups; with them httpx is ~1.5x slower)
    async with httpx.AsyncClient(limits=limits, timeout=10, trust_env=False) as client:

        async def post(body: bytes) -> None:
            response = await client.post(url, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 200

        return await _gated(bodies, post)


RAW = (("raw aiohttp loop, connections reused (ceiling)", raw_aiohttp, True),
       ("raw aiohttp loop, a connection per POST", raw_aiohttp, False),
       ("raw httpx loop, connections reused", raw_httpx, True),
       ("raw httpx loop, a connection per POST", raw_httpx, False))


def _deliver(kind: str, opts: Options, target: str, count: int) -> tuple[float, Any]:
    """``count`` due deliveries in a fresh database, drained by one deliverer; (seconds, report)."""
    with database(kind, opts.work_dir) as url:
        host = make_host(url)
        try:
            _store(host, target, count)
            gc.collect()
            started = time.perf_counter()
            report = server_stack.run(host.pipeline.deliverer.drain())
            return time.perf_counter() - started, report
        finally:
            host.close()


def run(opts: Options) -> list[Result]:
    n, big = opts.pick((200, 1000), (10_000, 100_000))
    results: list[Result] = []
    port = free_port()
    target = f"http://127.0.0.1:{port}/hooks/purchase"
    bodies = _bodies(n)
    with process([python(), "-m", "bench.receiver", "--port", str(port), "--seconds", "1800"], port=port):
        server_stack.run(raw_aiohttp(target, bodies[:200], reuse=True))  # warm up the receiver
        raw: dict[str, float] = {}
        for case, loop, reuse in RAW:
            raw[case] = n / server_stack.run(loop(target, bodies, reuse=reuse))
        ceiling_case = RAW[0][0]
        ceiling = raw[ceiling_case]
        for case, _, _ in RAW:
            results.append(Result(bench="delivery", case=case, value=raw[case], unit="posts/s",
                                  baseline="" if case == ceiling_case else "raw aiohttp, reused",
                                  baseline_value=None if case == ceiling_case else ceiling,
                                  ratio=None if case == ceiling_case else raw[case] / ceiling,
                                  details={"posts": n, "concurrency": CONCURRENCY}))
        for kind in opts.databases:
            if kind == "postgres" and not postgres_available():
                continue
            seconds, report = _deliver(kind, opts, target, n)
            rps = report.delivered / seconds
            if kind == "postgres":  # the growth case's baseline runs before and after it: drift hits both
                big_seconds, big_report = _deliver(kind, opts, target, big)
                again_seconds, again = _deliver(kind, opts, target, n)
                rps = (report.delivered + again.delivered) / (seconds + again_seconds)
                report.add(again)
                seconds += again_seconds
                n_runs = 2
            else:
                n_runs = 1
            ratio = rps / ceiling
            results.append(Result(bench="delivery", case=f"1 worker, {n:,} rows", db=kind, value=rps,
                                  unit="deliveries/s", baseline="raw aiohttp, reused", baseline_value=ceiling,
                                  ratio=ratio, target=">= 3,000/s and >= 0.3x raw aiohttp reused",
                                  met=rps >= TARGET_RPS and ratio >= TARGET_RATIO and report.delivered == n * n_runs,
                                  details={"delivered": report.delivered, "rows": n * n_runs, "runs": n_runs,
                                           "seconds": seconds}))
            if kind != "postgres":
                continue
            big_rps = big_report.delivered / big_seconds
            growth = big_rps / rps
            results.append(Result(bench="delivery", case=f"1 worker, {big:,} rows", db=kind, value=big_rps,
                                  unit="deliveries/s", baseline=f"{n:,} rows", baseline_value=rps, ratio=growth,
                                  target=">= 0.9x the smaller run", met=growth >= GROWTH and
                                  big_report.delivered == big,
                                  details={"delivered": big_report.delivered, "rows": big, "seconds": big_seconds}))
    return results
