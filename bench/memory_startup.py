"""6. Memory and start-up.

* A backlog of 100,000 stored events processed by one worker process; its peak RSS (``ru_maxrss``)
  must stay under 200 MB (batches, never the whole table). Baseline for information: the same worker
  process's RSS right after start-up, before processing.
* ``intellectra-integrations plugins list`` (the console script, with this repository's registry plus
  a disabled plugin) under 1 s wall, median of 5; baseline for information: ``python -c pass``.
* A disabled plugin's module is never imported: the disabled plugin's module leaves a mark when
  imported (bench/tripwire.py); checked after ``plugins list`` and ``worker --once``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import processing
from bench.common import ROOT, Options, Result, database, python, server_env

RSS_LIMIT_MB = 200.0
STARTUP_LIMIT_S = 1.0

REGISTRY = (ROOT / "registry.toml").read_text() + """
[plugins.tripwire]
module = "bench.tripwire"
enabled = false
"""


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("intellectra-integrations")
    return [str(script)] if script.exists() else [python(), "-c", "from core.cli import main; main()"]


def _wall(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[-2:])} failed: {done.stderr[-800:]}")
    return elapsed


def run(opts: Options) -> list[Result]:
    results: list[Result] = []
    n = opts.pick(300, 100_000)
    kind = "sqlite" if "sqlite" in opts.databases else opts.databases[0]
    with database(kind, opts.work_dir) as url:
        processing.setup_world(url)
        processing.store_events(url, n)
        report = processing.run_workers(opts, url, 1)
    results.append(Result(bench="memory_startup", case=f"{n:,} stored events, 1 worker", db=kind,
                          value=report["peak_rss_mb"], unit="MB peak RSS", baseline="limit",
                          baseline_value=RSS_LIMIT_MB, ratio=report["peak_rss_mb"] / RSS_LIMIT_MB,
                          target="< 200 MB", met=report["peak_rss_mb"] < RSS_LIMIT_MB and report["processed"] == n,
                          details={**report, "events": n}))

    work = opts.work_dir / "startup"
    work.mkdir(exist_ok=True)
    mark = work / "tripwire-imported"
    env = server_env(work, f"sqlite:///{work / 'intellectra.db'}", registry=REGISTRY)
    env["INTELLECTRA_BENCH_TRIPWIRE"] = str(mark)
    runs = opts.pick(2, 5)
    _wall([*_cli(), "db", "upgrade"], env, work)
    bare = statistics.median(_wall([python(), "-c", "pass"], env, work) for _ in range(runs))
    listing = statistics.median(_wall([*_cli(), "plugins", "list"], env, work) for _ in range(runs))
    imported_by_list = mark.exists()
    _wall([*_cli(), "worker", "--once"], env, work)
    imported = imported_by_list or mark.exists()
    results.append(Result(bench="memory_startup", case="plugins list (wall)", value=listing, unit="s",
                          baseline="python -c pass", baseline_value=bare, ratio=listing / STARTUP_LIMIT_S,
                          target="< 1 s", met=listing < STARTUP_LIMIT_S, details={"runs": runs}))
    results.append(Result(bench="memory_startup", case="disabled plugin imported?", value=float(imported),
                          unit="imported (0/1)", target="never imported", met=not imported,
                          details={"checked": ["plugins list", "worker --once"]}))
    return results
