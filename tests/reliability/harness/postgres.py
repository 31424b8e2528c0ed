"""PostgreSQL for the reliability runs: a database per run on the shared server, the fault injections
(``pg_terminate_backend`` of every backend of that database), and a private throwaway cluster that a
test may stop — the shared server on 5432 is never stopped or restarted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from core.testing import PostgresDatabase, free_port, postgres_admin_url, postgres_available

PG_BIN_ROOT = Path("/usr/lib/postgresql")


def admin_url() -> str:
    return postgres_admin_url()


def available() -> bool:
    return postgres_available()


def new_database() -> PostgresDatabase:
    return PostgresDatabase(admin_url())


def psycopg_url(url: str) -> str:
    """The ``postgresql://`` form the processes get in ``INTELLECTRA_DATABASE_URL`` (the host normalises it)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def terminate_backends(database: str, admin: str | None = None) -> int:
    """Kill every connection to ``database`` (what a failover or an admin's restart does to clients)."""
    engine = create_engine(admin or admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            killed = conn.execute(text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database}).scalar_one()
    finally:
        engine.dispose()
    return int(killed)


def backends(database: str, admin: str | None = None) -> int:
    engine = create_engine(admin or admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                                    {"d": database}).scalar_one())
    finally:
        engine.dispose()


def pg_bin() -> Path | None:
    if not PG_BIN_ROOT.exists():
        return None
    versions = sorted((p for p in PG_BIN_ROOT.iterdir() if (p / "bin" / "pg_ctl").exists()),
                      key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()])
    return versions[-1] / "bin" if versions else None


def can_run_private_cluster() -> str | None:
    """Why a private cluster cannot run here, or ``None``."""
    if pg_bin() is None:
        return "PostgreSQL server binaries are not installed under /usr/lib/postgresql"
    if os.geteuid() == 0 and shutil.which("su") is None:
        return "running as root without `su` to start PostgreSQL as the postgres user"
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            import pwd

            pwd.getpwnam("postgres")
            return None
        return "running as root and there is no postgres user to run PostgreSQL as"
    return None


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free loopback port, owned by one test, removed at the end."""

    def __init__(self) -> None:
        bin_dir = pg_bin()
        assert bin_dir is not None
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="intellectra-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, user="postgres")
        self._run(f"{self.bin}/initdb -D {self.data} -A trust -U postgres --no-sync")

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, command: str, timeout: float = 60.0) -> None:
        argv = ["su", "postgres", "-c", command] if self.as_root else ["bash", "-c", command]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout, cwd=self.dir,
                       stdin=subprocess.DEVNULL)

    def start(self) -> PrivateCluster:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._run(f"{self.bin}/pg_ctl -D {self.data} -o '{options}' -l {self.dir}/server.log -w start")
        deadline = time.monotonic() + 30
        while not postgres_available(self.admin_url):
            if time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL on port {self.port} did not come up")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        """Stop at once (``immediate``): what an outage looks like to clients."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(f"{self.bin}/pg_ctl -D {self.data} -m immediate -w stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self, name: str) -> str:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"
