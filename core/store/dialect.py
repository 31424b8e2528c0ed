"""The one seam where SQLite and PostgreSQL differ. Everything else in the store is portable."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.sql.dml import Insert

from core.store.problems import check_url

READ_ONLY_OPTION = "intellectra_read_only"


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and pick the psycopg 3 driver for them.

    A URL this host cannot use is refused here, before any connection, with what to do about it."""
    parsed = check_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def engine_options(url: str) -> dict[str, Any]:
    if make_url(url).get_backend_name() == "sqlite":
        # One file, many threads: the connection is used from the threadpool and the workers.
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, "pool_recycle": 1800}


def install_sqlite_pragmas(engine: Engine) -> None:
    """WAL for concurrent readers, FULL sync so a 2xx means the event is on disk, FKs on."""
    if not is_sqlite(engine):
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT and BEGIN IMMEDIATE; take it over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front (IMMEDIATE): no deadlock-prone lock upgrades between
        # writers. Readers (Store.read) begin deferred, so under WAL they never wait for a writer.
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def insert_ignoring_conflicts(engine: Engine, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` — how intake drops a duplicate without an error."""
    if is_sqlite(engine):
        return sqlite.insert(table).on_conflict_do_nothing()
    return postgresql.insert(table).on_conflict_do_nothing()


def lock_for_claim(engine: Engine, stmt: Select[Any]) -> Select[Any]:
    """Let several workers claim rows without waiting on each other (PostgreSQL's SKIP LOCKED).

    SQLite has one writer at a time (BEGIN IMMEDIATE), so the plain select is already exclusive.
    """
    if is_sqlite(engine):
        return stmt
    return stmt.with_for_update(skip_locked=True)


@contextlib.contextmanager
def claim_without_sorting(c: Connection) -> Iterator[None]:
    """Plan the statements inside without a sort (PostgreSQL), for this transaction only.

    A claim's order must come from the queue's index, which stops after a batch. Left to its cost
    model, PostgreSQL picks a plan from statistics, and a table filled faster than autovacuum
    analyses it looks tiny: it then plans a bitmap scan of every due row and a sort (hundreds of ms a
    claim at 100,000 due rows, spilling to disk, instead of a fraction of a ms). With sorting switched
    off the index's ordered scan is the only plan left, however stale or fresh the statistics.
    """
    if c.dialect.name == "sqlite":
        yield
        return
    c.exec_driver_sql("SELECT set_config('enable_sort', 'off', true)")
    try:
        yield
    finally:
        c.exec_driver_sql("SELECT set_config('enable_sort', 'on', true)")
