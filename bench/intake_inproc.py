"""2. Intake in process: the host's intake path for one event (verify, parse, store, commit), one at a time.

Baseline, in the same process on the same database: Stripe's ``verify_header`` + ``json.loads`` + one
INSERT and COMMIT through the same driver (sqlite3 / psycopg), no SQLAlchemy. The two alternate in
rounds so drift on a shared machine hits both. Target: host ≥ 0.6x the baseline's events/s on SQLite
(issue 17); PostgreSQL for information.

Measured: ``Intake.receive_sync`` (stores in the calling thread, one transaction per request), and
``Intake.receive`` awaited one event at a time (the web path: the group-commit writer thread, so a
lone request pays the hand-off to it).
"""

from __future__ import annotations

import statistics
import time

from bench.common import Options, Result, database, make_host, postgres_available
from bench.events import NAME, headers_for, signed_bodies
from bench.servers import RawStore, verify_and_parse
from core.server_stack import new_event_loop

TARGET = 0.6


def run(opts: Options) -> list[Result]:
    results: list[Result] = []
    for kind in opts.databases:
        if kind == "postgres" and not postgres_available():
            continue
        with database(kind, opts.work_dir) as url:
            results.extend(_measure(opts, kind, url))
    return results


def _measure(opts: Options, kind: str, url: str) -> list[Result]:
    rounds, per_round = opts.pick((2, 20), (5, 400))
    host = make_host(url)
    raw = RawStore(url)
    intake = host.pipeline.intake
    times: dict[str, list[float]] = {"baseline": [], "receive_sync": [], "receive": []}
    loop = new_event_loop()  # the loop serve runs on (uvloop)
    try:
        for warm in signed_bodies(20):  # warm caches and connections before timing
            intake.receive_sync(NAME, warm[1], headers_for(warm[0]))
        for _ in range(rounds):
            batch = signed_bodies(per_round)
            started = time.perf_counter()
            for signature, body in batch:
                raw.insert(verify_and_parse(body, signature), body.decode())
            times["baseline"].append((time.perf_counter() - started) / per_round)

            batch = signed_bodies(per_round)
            started = time.perf_counter()
            for signature, body in batch:
                result = intake.receive_sync(NAME, body, headers_for(signature))
                assert result.status_code == 200, result.body
            times["receive_sync"].append((time.perf_counter() - started) / per_round)

            batch = signed_bodies(per_round)

            async def one_by_one(batch: list[tuple[str, bytes]] = batch) -> None:
                for signature, body in batch:
                    result = await intake.receive(NAME, body, headers_for(signature))
                    assert result.status_code == 200, result.body

            started = time.perf_counter()
            loop.run_until_complete(one_by_one())
            times["receive"].append((time.perf_counter() - started) / per_round)
    finally:
        loop.close()
        raw.close()
        host.close()
    base = statistics.median(times["baseline"])
    out = []
    for case in ("receive_sync", "receive"):
        t = statistics.median(times[case])
        ratio = base / t
        out.append(Result(bench="intake_inproc", case=f"Intake.{case} (1 event)", db=kind, value=1 / t, unit="events/s",
                          baseline="verify+json.loads+INSERT+COMMIT (raw driver)", baseline_value=1 / base,
                          ratio=ratio, target=">= 0.6x baseline" if kind == "sqlite" else "(information)",
                          met=ratio >= TARGET if kind == "sqlite" else None,
                          details={"host_us": t * 1e6, "baseline_us": base * 1e6, "rounds": rounds,
                                   "per_round": per_round}))
    return out
