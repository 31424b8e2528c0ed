"""Listings and retention walk an index instead of reading and sorting a whole table.

Each operation runs for real; the statements it sent are captured and explained by SQLite, whose planner
needs no statistics, so the plan is the one the schema allows. (PostgreSQL's plans depend on statistics;
they were measured at a million rows when migration 0007 was written.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event

from core.host import Host
from core.pipeline.retention import prune
from core.registry import parse_registry
from core.settings import Settings


@pytest.fixture
def host(tmp_path: Any) -> Iterator[Host]:
    """A migrated SQLite host, whichever database the rest of the suite runs on."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/plans.db", secret_keys=Fernet.generate_key().decode(),
                        registry_path=tmp_path / "registry.toml")
    made = Host.create(settings=settings, registry=parse_registry({}), migrate=True)
    yield made
    made.close()


@contextmanager
def captured(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "DELETE")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def plans(host: Any, operation: Callable[[], Any], table: str) -> list[str]:
    """SQLite's query plan of every statement ``operation`` sent that reads ``table``."""
    with captured(host.store.engine) as statements:
        operation()
    found = []
    with host.store.engine.connect() as c:
        for statement, parameters in statements:
            if f"FROM {table}" not in statement:
                continue
            rows = c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            found.append(" | ".join(str(r[-1]) for r in rows))
    assert found, f"no statement read {table}"
    return found


def assert_walks_an_index(plan: str, table: str) -> None:
    assert f"SCAN {table}\n" not in plan + "\n" and f"SCAN {table} |" not in plan + " |", plan
    # Sorting ties of the index's order by id ("right part") is incremental: the LIMIT still stops the walk early.
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize("status", [None, "failed"])
def test_listing_events_walks_an_index_newest_first(host, status):
    for plan in plans(host, lambda: host.pipeline.list_events(status=status), "inbound_events"):
        assert_walks_an_index(plan, "inbound_events")


@pytest.mark.parametrize("status", [None, "dead"])
def test_listing_deliveries_walks_an_index_newest_first(host, status):
    for plan in plans(host, lambda: host.pipeline.list_deliveries(status=status), "deliveries"):
        assert_walks_an_index(plan, "deliveries")


@pytest.mark.parametrize("table", ["inbound_events", "domain_events", "deliveries", "observations", "connect_states",
                                   "audit_log"])
def test_every_retention_statement_finds_its_rows_through_an_index(host, table):
    def run() -> None:
        prune(host, older_than=timedelta(days=30), audit_older_than=timedelta(days=365))

    for plan in plans(host, run, table):
        assert f"SCAN {table}" not in plan.replace(f"SCAN {table} USING", "USING"), plan
