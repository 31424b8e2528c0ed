"""1. Intake over HTTP: signed Stripe events POSTed over loopback by a load generator in another process.

Servers, each a process of its own, one at a time: the bare 200 route (the stack's ceiling), the
hand-written ideal intake (per-event commit: on the event loop on SQLite, on async connections on
PostgreSQL; bench/servers.py), and ``intellectra-integrations serve`` (``--no-workers``: this stage only)
on the embedded default — a SQLite file in its working directory — and on PostgreSQL. All of them on the
same stack (uvicorn, httptools, uvloop). Targets (issue 17): serve ≥ 1.3x the ideal's requests/s on
SQLite, ≥ 1.0x on PostgreSQL, p99 ≤ 20 ms at 32 connections.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import Options, Result, database, free_port, postgres_available, process, python, server_env

CONNECTIONS = 32
TARGET_RATIO = {"sqlite": 1.3, "postgres": 1.0}
P99_MS = 20.0
PATH = "/webhooks/stripe_connect"


def serve_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("intellectra-integrations")
    head = [str(script)] if script.exists() else [python(), "-c", "from core.cli import main; main()"]
    return [*head, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-workers"]


def count_rows(url: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return int(conn.execute("SELECT count(*) FROM inbound_events").fetchone()[0])
    import psycopg

    from bench.common import libpq_url

    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM inbound_events").fetchone()
        return int(row[0]) if row else 0


def drive(opts: Options, kind: str, args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
          port: int, db_url: str | None = None) -> dict[str, Any]:
    seconds = opts.pick(1.0, 10.0)
    max_requests = opts.pick(3000, 120_000)
    bodies = loadgen.write_bodies(opts.work_dir / f"bodies-{uuid.uuid4().hex[:6]}.txt", max_requests)
    log = opts.work_dir / f"server-{kind}-{port}.log"
    try:
        with process(args, env=env, cwd=cwd, port=port, log=log):
            summary = loadgen.run(opts_generator(opts), f"http://127.0.0.1:{port}{PATH}", bodies,
                                  connections=CONNECTIONS, seconds=seconds, max_requests=max_requests)
    finally:
        bodies.unlink(missing_ok=True)
    summary["ok"] = summary["requests"] - summary["non2xx"]
    summary["rps"] = summary["ok"] / summary["seconds"] if summary["seconds"] else 0.0
    if db_url is not None:
        summary["rows"] = count_rows(db_url)
    return summary


def opts_generator(opts: Options) -> str:
    if opts.loadgen == "auto":
        return "wrk" if loadgen.have_wrk() else "python"
    return opts.loadgen


def run(opts: Options) -> list[Result]:
    results: list[Result] = []
    env = server_env(opts.work_dir)
    port = free_port()
    bare = drive(opts, "bare", [python(), "-m", "bench.servers", "bare", "--port", str(port)], env=env, port=port)
    results.append(_row("bare 200 route (ceiling)", "-", bare))
    for kind in opts.databases:
        if kind == "postgres" and not postgres_available():
            continue
        with database(kind, opts.work_dir) as url:
            port = free_port()
            ideal = drive(opts, "ideal", [python(), "-m", "bench.servers", "ideal", "--port", str(port), "--db", url],
                          env=env, port=port, db_url=url)
        results.append(_row("ideal intake (per-event commit)", kind, ideal, bare=bare))
        if kind == "sqlite":  # the embedded default: no INTELLECTRA_DATABASE_URL, a file in the working directory
            cwd = opts.work_dir / f"serve-{uuid.uuid4().hex[:6]}"
            cwd.mkdir()
            port = free_port()
            served = drive(opts, "serve", serve_command(port), env=server_env(cwd), cwd=cwd, port=port,
                           db_url=f"sqlite:///{cwd / 'intellectra.db'}")
        else:
            with database(kind, opts.work_dir) as url:
                port = free_port()
                served = drive(opts, "serve", serve_command(port), env=server_env(opts.work_dir, url), port=port,
                               db_url=url)
        results.append(_row("serve (host intake)", kind, served, bare=bare, ideal=ideal))
    return results


def _row(case: str, db: str, s: dict[str, Any], *, bare: dict[str, Any] | None = None,
         ideal: dict[str, Any] | None = None) -> Result:
    details = {k: s[k] for k in ("rps", "ok", "non2xx", "errors", "seconds", "p50_ms", "p99_ms", "rows", "generator")
               if k in s}
    if bare is not None:
        details["vs_bare"] = s["rps"] / bare["rps"] if bare["rps"] else None
    if ideal is not None:
        ratio = s["rps"] / ideal["rps"] if ideal["rps"] else 0.0
        wanted = TARGET_RATIO[db]
        met = ratio >= wanted and s["p99_ms"] <= P99_MS and s["non2xx"] == 0 and s.get("rows", 0) >= s["ok"]
        return Result(bench="intake_http", case=case, db=db, value=s["rps"], unit="req/s", baseline="ideal intake",
                      baseline_value=ideal["rps"], ratio=ratio, target=f">= {wanted:.1f}x ideal, p99 <= 20 ms",
                      met=met, details=details)
    if bare is not None:
        return Result(bench="intake_http", case=case, db=db, value=s["rps"], unit="req/s", baseline="bare 200",
                      baseline_value=bare["rps"], ratio=details["vs_bare"], details=details)
    return Result(bench="intake_http", case=case, db=db, value=s["rps"], unit="req/s", details=details)
