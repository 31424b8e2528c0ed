"""Each benchmark runs once at a tiny size so it keeps working. No timing assertions: benchmarks are not tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as bench_main
from bench.common import Options, postgres_available
from core.testing import skip_or_fail


def _databases() -> tuple[str, ...]:
    if os.environ.get("INTELLECTRA_TEST_DB", "sqlite").lower() == "postgres":
        if not postgres_available():
            skip_or_fail("PostgreSQL is not reachable")
        return ("postgres",)
    return ("sqlite",)


@pytest.fixture(scope="module")
def tiny_run() -> Iterator[Callable[[str], dict[str, Any]]]:
    """Run one benchmark at the tiny size (once per module), with the Python load generator (no wrk needed)."""
    work = Path(tempfile.mkdtemp(prefix="intellectra-bench-test-"))
    reports: dict[str, dict[str, Any]] = {}

    def run(name: str) -> dict[str, Any]:
        if name not in reports:
            opts = Options(size="tiny", databases=_databases(), loadgen="python", work_dir=work)
            reports[name] = bench_main.run(opts, (name,), echo=False)
        return reports[name]

    yield run
    shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("name", bench_main.BENCHMARKS)
def test_benchmark_runs_at_a_tiny_size(tiny_run: Callable[[str], dict[str, Any]], name: str) -> None:
    report = tiny_run(name)

    assert report["errors"] == {}
    assert report["results"], f"{name} produced no result"
    for result in report["results"]:
        assert result["value"] is not None and result["value"] >= 0
        assert result["unit"]
    assert f"| {name} |" in bench_main.table(report)


def test_the_http_benchmark_stores_each_event_it_acknowledged(tiny_run: Callable[[str], dict[str, Any]]) -> None:
    served = [r for r in tiny_run("intake_http")["results"] if r["case"].startswith("serve")]

    assert served
    for r in served:
        assert r["details"]["non2xx"] == 0
        assert r["details"]["rows"] == r["details"]["ok"]  # distinct events: every 2xx is a stored row


def test_processing_writes_one_outbox_row_per_event(tiny_run: Callable[[str], dict[str, Any]]) -> None:
    one = next(r for r in tiny_run("processing")["results"] if r["case"].startswith("1 worker"))

    assert one["details"]["processed"] == one["details"]["events"] == one["details"]["outbox_rows"]


def test_a_disabled_plugin_is_never_imported(tiny_run: Callable[[str], dict[str, Any]]) -> None:
    (check,) = [r for r in tiny_run("memory_startup")["results"] if r["case"] == "disabled plugin imported?"]

    assert check["met"] is True


def test_the_command_line_writes_json_and_prints_the_table(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = bench_main.main(["--size", "tiny", "--only", "dispatch", "--db", "sqlite", "--out", str(tmp_path)])

    assert code == 0
    assert list(tmp_path.glob("bench-*-tiny.json"))
    assert "| dispatch |" in capsys.readouterr().out
