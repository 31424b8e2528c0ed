"""What every benchmark shares: results, sizes, throwaway databases, a host with Stripe Connect, processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from bench.events import CLIENT_ID, NAME, SECRET_KEY, WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FERNET_KEY = "yGjt5BRWvLzHc5ZrlmbJg3wqbCEu6bF2AQGJYa1ghWg="  # a throwaway key for the benchmark's databases


@attrs.define(kw_only=True)
class Result:
    """One row of the table: a measured figure, its same-run baseline, the ratio and the target."""

    bench: str
    case: str
    db: str = "-"
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    details: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class Options:
    """How big a run is: ``tiny`` (the test suite: seconds) or ``full`` (the README's table)."""

    size: str = "full"
    databases: tuple[str, ...] = ("sqlite", "postgres")
    loadgen: str = "auto"  # wrk | python | auto (wrk when installed)
    work_dir: Path = attrs.field(factory=lambda: Path(tempfile.mkdtemp(prefix="intellectra-bench-")))

    @property
    def tiny(self) -> bool:
        return self.size == "tiny"

    def pick(self, tiny: Any, full: Any) -> Any:
        return tiny if self.tiny else full


def pg_admin_url() -> str:
    return os.environ.get("INTELLECTRA_BENCH_PG_ADMIN_URL", PG_ADMIN_DEFAULT)


def postgres_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(pg_admin_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def database(kind: str, work_dir: Path) -> Iterator[str]:
    """A fresh, migrated database URL: a SQLite file in ``work_dir``, or a PostgreSQL database dropped after."""
    from sqlalchemy import create_engine, text

    from core.store.engine import make_engine, upgrade

    if kind == "sqlite":
        path = work_dir / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()
        return
    admin_url = pg_admin_url()
    name = f"intellectra_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` → ``postgresql://...`` for psycopg.connect."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def stripe_registry(**config: Any) -> dict[str, Any]:
    return {"plugins": {NAME: {"module": "plugins.stripe_connect", "config": {
        "secret_key": SECRET_KEY, "client_id": CLIENT_ID, "webhook_secrets": WEBHOOK_SECRET,
        "max_network_retries": 0, **config}}}}


REGISTRY_TOML = f"""\
autoload = false

[plugins.{NAME}]
module = "plugins.stripe_connect"
enabled = true

[plugins.{NAME}.config]
secret_key = "env:STRIPE_SECRET_KEY"
client_id = "env:STRIPE_CLIENT_ID"
webhook_secrets = "env:STRIPE_WEBHOOK_SECRET"
max_network_retries = 0
"""


def server_env(work_dir: Path, database_url: str | None = None, registry: str = REGISTRY_TOML) -> dict[str, str]:
    """The environment a ``serve``/``plugins list`` subprocess runs with (registry written into ``work_dir``)."""
    path = work_dir / "registry.toml"
    path.write_text(registry)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTELLECTRA_", "STRIPE_"))}
    # serve requires a public URL outside --sandbox; the benchmarks call it on 127.0.0.1 (any port).
    env.update({"INTELLECTRA_REGISTRY": str(path), "INTELLECTRA_SECRET_KEYS": FERNET_KEY,
                "INTELLECTRA_PUBLIC_URL": "http://127.0.0.1",
                "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_CLIENT_ID": CLIENT_ID, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
    if database_url:
        env["INTELLECTRA_DATABASE_URL"] = database_url
    return env


def make_host(database_url: str, **registry_config: Any) -> Any:
    """A host with Stripe Connect on ``database_url`` (already migrated), real clock, dev mode."""
    from core.host import Host
    from core.registry import parse_registry
    from core.settings import Settings

    settings = Settings(database_url=database_url, secret_keys=FERNET_KEY, allow_loopback_targets=True,
                        registry_path=Path("/nonexistent/registry.toml"))
    return Host.create(settings=settings, registry=parse_registry(stripe_registry(**registry_config)), migrate=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any] | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout:g} s")


@contextlib.contextmanager
def process(args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
            port: int | None = None, log: Path | None = None) -> Iterator[subprocess.Popen[Any]]:
    """Run ``args``; wait for ``port``; always stop it (SIGTERM, then SIGKILL) when the block ends."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(list(args), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        if port is not None:
            wait_for_port(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if log:
            out.close()  # type: ignore[union-attr]


def python() -> str:
    return sys.executable


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    ``VmHWM`` from /proc (per address space, so it starts afresh at exec). ``ru_maxrss`` is not used
    where /proc exists: Linux carries it over from the forking parent, so a worker started by a big
    benchmark process would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_seconds_per_call(call: Callable[[], object], loops: int, repeats: int) -> float:
    """Median CPU seconds per call over ``loops`` calls (CPU time: a shared machine descheduling us is not
    the code's cost)."""
    samples = []
    for _ in range(repeats):
        started = time.thread_time()
        for _ in range(loops):
            call()
        samples.append((time.thread_time() - started) / loops)
    return statistics.median(samples)
