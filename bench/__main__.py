"""``python -m bench`` (``make bench``): run the benchmarks, print the table, write JSON to bench/results/.

    python -m bench                         # everything, full size, SQLite and PostgreSQL
    python -m bench --only processing,delivery --db sqlite
    python -m bench --size tiny             # seconds: what the test suite runs
    python -m bench --loadgen python        # the HTTP benchmark without wrk
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from bench.common import ROOT, Options, Result, postgres_available

BENCHMARKS = ("intake_http", "intake_inproc", "processing", "claims", "delivery", "dispatch", "memory_startup",
              "observers", "redaction")
RESULTS = ROOT / "bench" / "results"


def run(opts: Options, only: tuple[str, ...] = BENCHMARKS, *, echo: bool = True) -> dict[str, Any]:
    """Run ``only``; returns the report (also what is written as JSON)."""
    results: list[Result] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name in only:
        if echo:
            print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            results.extend(importlib.import_module(f"bench.{name}").run(opts))
        except Exception:
            errors[name] = traceback.format_exc()
            if echo:
                print(errors[name], file=sys.stderr)
        timings[name] = time.perf_counter() - started
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": opts.size,
        "databases": list(opts.databases),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": list(os.getloadavg())},
        "results": [attrs.asdict(r) for r in results],
        "errors": errors,
        "seconds": timings,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value:.2f}x"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(report: dict[str, Any]) -> str:
    """The results as a Markdown table (what bench/README.md holds)."""
    lines = ["| benchmark | case | db | value | baseline | ratio | target | met | notes |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        d = r["details"]
        notes = []
        if "p50_ms" in d:
            notes.append(f"p50 {d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms")
        if "rows" in d and r["bench"] == "intake_http":
            notes.append(f"{d['ok']:,} 2xx, {d['rows']:,} rows, {d['generator']}")
        if "vs_bare" in d and d["vs_bare"] is not None:
            notes.append(f"{d['vs_bare']:.2f}x bare")
        if "host_us" in d:
            notes.append(f"{d['host_us']:.0f} us vs {d['baseline_us']:.0f} us")
        if "outbox_rows" in d:
            notes.append(f"{d['outbox_rows']:,} outbox rows")
        if r["bench"] == "delivery" and "delivered" in d:
            notes.append(f"{d['delivered']:,} delivered")
        if r["bench"] == "processing" and "processed" in d and "outbox_rows" not in d:
            notes.append(f"{d['processed']:,} processed")
        if "per_worker" in d and len(d["per_worker"]) > 1:
            notes.append("per worker " + "/".join(f"{x:,}" for x in d["per_worker"]))
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        baseline = f"{r['baseline']} {_fmt(r['baseline_value'])}" if r["baseline"] else ""
        lines.append(f"| {r['bench']} | {r['case']} | {r['db']} | {_fmt(r['value'])} {r['unit']} | {baseline} | "
                     f"{_fmt(r['ratio'], 'ratio')} | {r['target']} | {met} | {'; '.join(notes)} |")
    for name, error in report["errors"].items():
        lines.append(f"| {name} | failed: {error.strip().splitlines()[-1][:100]} | | | | | | **no** | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["tiny", "full"], default="full")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (comma-separated)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON report")
    args = parser.parse_args(argv)
    only = tuple(n.strip() for n in args.only.split(",") if n.strip())
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    databases = tuple(d.strip() for d in args.db.split(",") if d.strip())
    if "postgres" in databases and not postgres_available():
        print("PostgreSQL is not reachable on 127.0.0.1:5432; running SQLite only", file=sys.stderr)
        databases = tuple(d for d in databases if d != "postgres")
    opts = Options(size=args.size, databases=databases, loadgen=args.loadgen)
    try:
        report = run(opts, only)
    finally:
        shutil.rmtree(opts.work_dir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{args.size}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(table(report))
    print(f"\nJSON: {path}", file=sys.stderr)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
