"""Fixtures of the reliability suite. Every process, server, database and cluster a test starts is
stopped or dropped by the fixture that made it, whatever the test's outcome."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import arena as arena_mod
from harness import postgres
from harness.arena import Arena
from harness.processes import Fleet, ManagedProcess
from harness.world import Deployment

from core.testing import PostgresDatabase, free_port, skip_or_fail


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The shared PostgreSQL server's admin URL; skips locally without one, fails under CI=true."""
    if not postgres.available():
        skip_or_fail(f"PostgreSQL is not reachable at {postgres.admin_url()}")
    return postgres.admin_url()


@pytest.fixture
def pg_database(postgres_server: str) -> Iterator[PostgresDatabase]:
    """A database of its own for one test, dropped afterwards (its connections are terminated first)."""
    db = postgres.new_database()
    yield db
    db.drop()


@pytest.fixture
def deployment(pg_database: PostgresDatabase, tmp_path: Path) -> Iterator[Deployment]:
    deployed = Deployment(database_url=postgres.psycopg_url(pg_database.url), workdir=tmp_path / "deployment")
    yield deployed
    deployed.close()


@pytest.fixture
def fleet(deployment: Deployment) -> Iterator[Fleet]:
    """The deployment's processes (none started yet); all stopped at the end. ``db upgrade`` has run."""
    made = Fleet(deployment.env, deployment.workdir)
    try:
        made.cli("db", "upgrade")
        yield made
    finally:
        made.stop()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ManagedProcess]:
    """A recording delivery target in its own process (the test process is busy sending load)."""
    script = Path(__file__).parent / "harness" / "receiver.py"
    process = ManagedProcess("receiver", [sys.executable, str(script), str(port := free_port())], dict(os.environ),
                             tmp_path, tmp_path, port=port)
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def arena(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    """The hostile-input arena (harness/arena.py) on SQLite and on PostgreSQL, shared by a module's tests:
    each test asserts its attack changed nothing, so the next one starts from the same state."""
    with arena_mod.migrated_database(request.param, tmp_path_factory.mktemp("arena")) as url:
        built = arena_mod.build(url)
        try:
            yield built
        finally:
            built.close()
