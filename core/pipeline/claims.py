"""Claiming due rows of a queue table (``inbound_events``, ``deliveries``) with a lease.

A claim sets ``claimed_by``, ``claimed_until`` and pushes ``next_attempt_at`` to the lease's end,
so the queue query stays one index range (``ix_<table>_due``: pending rows by ``next_attempt_at``)
and a claim whose worker died simply becomes due again when its lease runs out. The claim walks that
index in order and stops after a batch, on both databases and whatever the statistics say, so it
costs the same with 10,000 or 1,000,000 rows (bench/README.md). A worker whose work outlasts the
lease renews it (``renew_claims``, driven by ``core.pipeline.leases.LeaseKeeper``). On PostgreSQL
``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side; SQLite's single writer
(``BEGIN IMMEDIATE``) serialises claims already.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, select
from sqlalchemy import Connection as DB

from core.store.dialect import claim_without_sorting, lock_for_claim


def new_worker_id() -> str:
    """``host:pid:random`` — unique per worker, readable in ``events list``."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_due(c: DB, engine: Engine, table: Table, *, worker_id: str, now: datetime, lease: timedelta,
              limit: int, where: Sequence[ColumnElement[bool]] = (),
              also_set: Mapping[str, Any] | None = None) -> list[Any]:
    """Claim up to ``limit`` due ``pending`` rows of ``table`` in ``c``'s transaction; returns them.

    The caller commits. The rows returned are as they were before the claim; ``also_set`` adds
    values to the claiming UPDATE (e.g. counting an attempt).
    """
    stmt = (select(table).where(table.c.status == "pending", table.c.next_attempt_at <= now, *where)
            .order_by(table.c.next_attempt_at).limit(limit))
    with claim_without_sorting(c):
        rows = list(c.execute(lock_for_claim(engine, stmt)).all())
    if not rows:
        return []
    until = now + lease
    c.execute(table.update().where(table.c.id.in_([r.id for r in rows]))
              .values(claimed_by=worker_id, claimed_until=until, next_attempt_at=until, **dict(also_set or {})))
    return rows


def renew_claims(c: DB, table: Table, ids: Sequence[str], *, worker_id: str, until: datetime) -> int:
    """Extend this worker's claims on ``ids`` to ``until``; returns how many it still held.

    Rows another worker took over, or that were finished meanwhile, are left alone.
    """
    if not ids:
        return 0
    result = c.execute(table.update().where(table.c.id.in_(list(ids)), table.c.claimed_by == worker_id,
                                            table.c.status == "pending")
                       .values(claimed_until=until, next_attempt_at=until))
    return int(result.rowcount)


def still_ours(c: DB, engine: Engine, table: Table, ids: Sequence[str], *, worker_id: str) -> set[str]:
    """Which of ``ids`` this worker still holds (locked until ``c`` commits, on PostgreSQL).

    A claim is lost when its lease ran out and another worker took the row; the results of the
    slow worker are then dropped so each event takes effect once.
    """
    if not ids:
        return set()
    stmt = select(table.c.id).where(table.c.id.in_(list(ids)), table.c.claimed_by == worker_id,
                                    table.c.status == "pending")
    if engine.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return set(c.execute(stmt).scalars())
