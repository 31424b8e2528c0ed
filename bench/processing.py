"""3. Processing: stored ``checkout.session.completed`` → ``purchase.completed`` → one outbox row each.

A tenant has Stripe connected (the events' account) and one subscription to ``purchase.completed``, so
every event becomes one domain event and one delivery row. Workers are separate processes running the
host's ``Processor.drain`` (the loop ``worker`` runs); they are started, then released together, and
the time is from the first start to the last finish. Targets: ≥ 2,000 events/s with one worker on
SQLite and PostgreSQL; two workers on PostgreSQL ≥ 1.4x one.

    python -m bench.processing worker --db URL        (one worker process: waits for "go" on stdin)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import ROOT, Options, Result, database, make_host, postgres_available, python, server_env
from bench.events import ACCOUNT, NAME, body_of, checkout_completed

TARGET_RPS = 2000.0


def setup_world(url: str) -> None:
    """The tenant, its Stripe connection and one subscription (so each event makes one outbox row)."""
    from core.models import Connected

    host = make_host(url)
    try:
        tenant, _ = host.tenants.create("Bench Studio")
        host.connections.save_connected(tenant, NAME, Connected(external_id=ACCOUNT, livemode=False), actor="bench")
        host.subscriptions.subscribe(tenant.id, "bench", event_type="purchase.completed",
                                     target_url="http://127.0.0.1:9/hook")
    finally:
        host.close()


def store_events(url: str, count: int, chunk: int = 2000) -> None:
    """``count`` pending events, inserted in chunks (fast; intake is measured elsewhere)."""
    from datetime import UTC, datetime

    from core.ids import new_id
    from core.store.engine import make_engine
    from core.store.tables import inbound_events

    run = uuid.uuid4().hex[:10]
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        for start in range(0, count, chunk):
            rows: list[dict[str, Any]] = []
            for n in range(start, min(count, start + chunk)):
                event = checkout_completed(n, run=run)
                rows.append(dict(id=new_id("inb"), integration=NAME, external_id=event["id"], type=event["type"],
                                 account=ACCOUNT, livemode=False, tenant_id=None, payload=body_of(event).decode(),
                                 status="pending", attempts=0, next_attempt_at=now, received_at=now))
            with engine.begin() as c:
                c.execute(inbound_events.insert(), rows)
    finally:
        engine.dispose()


def count(url: str, sql: str) -> int:
    from sqlalchemy import text

    from core.store.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def run_workers(opts: Options, url: str, workers: int, *, profile: str | None = None) -> dict[str, Any]:
    """Start ``workers`` worker processes, release them together, wait; events/s over the whole run."""
    env = server_env(opts.work_dir, url)
    procs = []
    for i in range(workers):
        args = [python(), "-m", "bench.processing", "worker", "--db", url]
        if profile and i == 0:
            args = [python(), "-m", "pyinstrument", "-o", profile, "-r", "text", "-m", "bench.processing", "worker",
                    "--db", url]
        procs.append(subprocess.Popen(args, env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True))
    try:
        for p in procs:
            line = p.stdout.readline() if p.stdout else ""
            if line.strip() != "ready":
                raise RuntimeError(f"processing worker did not start: {line!r}")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        reports = []
        for p in procs:
            out, _ = p.communicate(timeout=600)
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    started = min(r["started"] for r in reports)
    finished = max(r["finished"] for r in reports)
    processed = sum(r["processed"] for r in reports)
    return {"processed": processed, "seconds": finished - started, "rps": processed / (finished - started),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in reports), "per_worker": [r["processed"] for r in reports]}


def run(opts: Options) -> list[Result]:
    n = opts.pick(200, 20_000)
    results: list[Result] = []
    for kind in opts.databases:
        if kind == "postgres" and not postgres_available():
            continue
        with database(kind, opts.work_dir) as url:
            setup_world(url)
            store_events(url, n)
            one = run_workers(opts, url, 1)
            outbox = count(url, "SELECT count(*) FROM deliveries")
            results.append(Result(bench="processing", case="1 worker", db=kind, value=one["rps"], unit="events/s",
                                  baseline="target", baseline_value=TARGET_RPS, ratio=one["rps"] / TARGET_RPS,
                                  target=">= 2,000 events/s", met=one["rps"] >= TARGET_RPS and outbox == n,
                                  details={**one, "outbox_rows": outbox, "events": n}))
            if kind == "postgres":
                store_events(url, n)
                two = run_workers(opts, url, 2)
                ratio = two["rps"] / one["rps"]
                results.append(Result(bench="processing", case="2 workers", db=kind, value=two["rps"],
                                      unit="events/s", baseline="1 worker", baseline_value=one["rps"], ratio=ratio,
                                      target=">= 1.4x one worker", met=ratio >= 1.4, details={**two, "events": n}))
    return results


def worker_main(url: str) -> None:
    from bench.common import peak_rss_mb

    host = make_host(url)
    processor = host.pipeline.processor
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    started = time.time()
    report = processor.drain()
    finished = time.time()
    host.close()
    sys.stdout.write(json.dumps({"processed": report.processed, "ignored": report.ignored, "failed": report.failed,
                                 "retried": report.retried, "started": started, "finished": finished,
                                 "peak_rss_mb": peak_rss_mb()}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.processing")
    parser.add_argument("mode", choices=["worker"])
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    worker_main(args.db)


if __name__ == "__main__":
    main()
