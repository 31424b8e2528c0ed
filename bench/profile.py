"""Where the time goes: sample ``serve`` under load with py-spy and sum the samples by stage.

    python -m bench.profile [--seconds 10] [--db sqlite|postgres]
    python -m bench.profile --stages [--db sqlite|postgres]    (intake in process, stage by stage)

Needs ``py-spy`` (``pip install py-spy``; it is not a test dependency). It starts ``serve --no-workers``,
attaches py-spy (CPU samples only: waiting threads are not counted), drives it with the same load as the
HTTP benchmark, and prints the share of the busy samples per stage of the intake hot path, per thread
(event loop, plugin lane, group-commit writer); samples of a thread waiting on its queue or in epoll are
counted apart. The figures in bench/README.md come from this.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import Options, database, free_port, process, server_env
from bench.intake_http import CONNECTIONS, PATH, opts_generator, serve_command

# First matching rule wins; a sample is charged to the innermost frame that matches any rule.
STAGES = [
    ("verify: Stripe signature (plugin)", r"stripe/_webhook|WebhookSignature|hmac|_check_signature"),
    ("verify: json.loads + InboundEvent (plugin)", r"stripe_connect/webhooks\.py"),
    ("intake: rows + json.dumps (host)", r"Intake\._rows|Intake\._accepted|_invalid \("),
    ("intake: plugin dispatch (host)", r"PluginHost\.|Host\.context|pluggy"),
    ("store: INSERT + COMMIT (driver)", r"_Inserter\.|\.commit|do_commit|_commit_impl"),
    ("store: SQLAlchemy execute + driver insert", r"sqlalchemy|sqlite3|psycopg"),
    ("store: group-commit queue/futures",
     r"group_commit|concurrent/futures|queue\.py|wrap_future|call_soon_threadsafe|_settle|plugin_pool"),
    ("http: httptools/h11 parse/serialise", r"h11/|h11_impl|httptools_impl"),
    ("http: Starlette routing + middleware", r"starlette/|core/web/"),
    ("http: asyncio event loop + sockets", r"asyncio/|selectors"),
]
# A thread waiting (on its queue, or the loop in epoll) is sampled in the frame that waits, as if busy;
# these are charged to "waiting" instead of a stage.
WAITING = re.compile(r"^(_worker \(concurrent/futures/thread|Runner\.run \(asyncio/runners|GroupCommitWriter\._drain )")


def summarise(raw: Path) -> list[tuple[str, str, float]]:
    """(thread, stage, share) from py-spy's ``--format raw`` output: a stage's share of the busy samples,
    waiting's share of all of them."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        if any("GroupCommitWriter" in f for f in frames):
            thread = "writer thread"
        elif any(f.startswith("_worker (concurrent/futures/thread") for f in frames):
            thread = "plugin lane"
        else:
            thread = "event loop"
        stage = "waiting" if WAITING.match(frames[-1]) else "other"
        for frame in reversed(frames if stage == "other" else []):
            hit = next((name for name, pattern in STAGES if re.search(pattern, frame)), None)
            if hit:
                stage = hit
                break
        counts[(thread, stage)] += int(n)
        total += int(n)
    busy = total - sum(c for (_, s), c in counts.items() if s == "waiting")
    return sorted(((t, s, c / (total if s == "waiting" else busy)) for (t, s), c in counts.items()),
                  key=lambda x: (x[1] == "waiting", -x[2]))


def stages(kind: str, n: int = 400, rounds: int = 3) -> None:
    """Wall and CPU microseconds per event of each step of the in-process intake, and of the baseline's."""
    import time

    from bench.common import make_host
    from bench.events import NAME, headers_for, signed_bodies
    from bench.servers import RawStore, verify_and_parse
    from core.models import InboundRequest
    from core.pipeline.group_commit import insert_events

    def timed(label: str, fn: Any, items: list[Any]) -> list[Any]:
        wall, cpu = time.perf_counter(), time.thread_time()
        out = [fn(x) for x in items]
        print(f"{label:44s} wall {(time.perf_counter() - wall) / len(items) * 1e6:7.1f} us"
              f"   cpu {(time.thread_time() - cpu) / len(items) * 1e6:7.1f} us")
        return out

    opts = Options()
    with database(kind, opts.work_dir) as url:
        host = make_host(url)
        raw, intake = RawStore(url), host.pipeline.intake
        for signature, body in signed_bodies(20):
            intake.receive_sync(NAME, body, headers_for(signature))
        for _ in range(rounds):
            batch = signed_bodies(n)
            timed("baseline: verify_header + json.loads", lambda sb: verify_and_parse(sb[1], sb[0]), batch)
            parsed = [(verify_and_parse(b, s), b.decode()) for s, b in batch]
            timed("baseline: raw INSERT + COMMIT", lambda e: raw.insert(*e), parsed)
            requests = [InboundRequest(integration=NAME, body=b, headers=headers_for(s),
                                       content_type="application/json") for s, b in signed_bodies(n)]
            events = timed("host: verify_webhook (addressed call, plugin)",
                           lambda r: host.plugins.call(NAME, "verify_webhook", ctx=host.context(NAME), request=r),
                           requests)
            rows = timed("host: checks + row (json.dumps, ids)", lambda e: intake._rows(NAME, e), events)
            timed("host: insert_events (driver + COMMIT)", lambda r: insert_events(host.store.engine, r), rows)
            timed("host: Intake.receive_sync, all of it",
                  lambda sb: intake.receive_sync(NAME, sb[1], headers_for(sb[0])), signed_bodies(n))
            print()
        raw.close()
        host.close()
    shutil.rmtree(opts.work_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--stages", action="store_true", help="time the in-process intake step by step instead")
    args = parser.parse_args()
    if args.stages:
        stages(args.db)
        return
    beside = Path(sys.executable).with_name("py-spy")
    spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    opts = Options()
    raw = opts.work_dir / "serve.raw"
    cwd = opts.work_dir / "serve"
    cwd.mkdir()
    with database(args.db, opts.work_dir) as url:
        env = server_env(cwd, None if args.db == "sqlite" else url)
        port = free_port()
        bodies = loadgen.write_bodies(opts.work_dir / f"bodies-{uuid.uuid4().hex[:6]}.txt", 120_000)
        with process(serve_command(port), env=env, cwd=cwd, port=port) as server:
            sampler = subprocess.Popen([spy, "record", "--pid", str(server.pid), "--format", "raw", "-r", "250",
                                        "-d", str(int(args.seconds)), "-o", str(raw)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            summary = loadgen.run(opts_generator(opts), f"http://127.0.0.1:{port}{PATH}", bodies,
                                  connections=CONNECTIONS, seconds=args.seconds, max_requests=120_000)
            sampler.wait(timeout=args.seconds + 30)
    print(f"load: {summary}")
    for thread, stage, share in summarise(raw):
        print(f"{share * 100:5.1f}%  {thread:13s}  {stage}")
    shutil.rmtree(opts.work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
