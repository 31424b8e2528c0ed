"""Request limits that hold across every process on the database (token buckets in ``rate_limits``).

A limit counted in one process's memory lets N ``serve`` processes behind a load balancer take N
times the rate. Here each (scope, key) bucket is a row: a hit refills it by the time passed, takes a
token if there is one, and saves it, in one transaction holding the row's lock (PostgreSQL's
``FOR UPDATE``; SQLite's single writer). One small write per limited request: meant for API calls
a person or an automation makes, not for webhook intake.
"""

from __future__ import annotations

import math

from sqlalchemy import select

from core.clock import Clock
from core.errors import ValidationFailed
from core.store import Store
from core.store.dialect import insert_ignoring_conflicts
from core.store.tables import rate_limits


class RateLimits:
    """``hit(scope, key, per_minute=N)`` is 0 when the request may go on, else whole seconds to wait."""

    def __init__(self, *, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def hit(self, scope: str, key: str, *, per_minute: int) -> int:
        """Take one request from ``key``'s bucket in ``scope`` (``per_minute`` requests, refilled evenly).

        A new key starts with a full bucket, so a burst of up to ``per_minute`` requests goes through.
        The answer is what ``Retry-After`` should say: the seconds until one request is allowed again.
        """
        if per_minute < 1:
            raise ValidationFailed(f"per_minute must be at least 1 (got {per_minute}).", code="rate_limit_invalid")
        capacity, rate = float(per_minute), per_minute / 60.0
        now = self.clock.now().timestamp()
        engine = self.store.engine
        bucket = rate_limits.c
        locked = select(bucket.tokens, bucket.updated_at).where(bucket.scope == scope, bucket.key == key)
        locked = locked.with_for_update()
        with self.store.begin() as c:
            row = c.execute(locked).first()
            if row is None:  # a key's first request; two at once: one inserts, both then lock the same row
                c.execute(insert_ignoring_conflicts(engine, rate_limits).values(
                    scope=scope, key=key, tokens=capacity, updated_at=now))
                row = c.execute(locked).one()
            elapsed = max(0.0, now - row.updated_at)  # a clock that went back refills nothing
            tokens = min(capacity, row.tokens + elapsed * rate)
            wait = 0 if tokens >= 1.0 else max(1, math.ceil((1.0 - tokens) / rate))
            if wait == 0:
                tokens -= 1.0
            c.execute(rate_limits.update().where(bucket.scope == scope, bucket.key == key)
                      .values(tokens=tokens, updated_at=max(now, row.updated_at)))
        return wait

    def forget(self, scope: str, key: str) -> None:
        """Drop ``key``'s bucket (e.g. when its API key is revoked): the table holds live keys only."""
        with self.store.begin() as c:
            c.execute(rate_limits.delete().where(rate_limits.c.scope == scope, rate_limits.c.key == key))
