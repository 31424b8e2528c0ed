"""A per-API-key request limit (token bucket) so one Zap cannot starve a site's API.

In-process: each ``serve`` process counts on its own, so with N processes behind a load balancer a
key can make up to N times the configured rate. That is acceptable for abuse protection; a shared
counter (e.g. in PostgreSQL or Redis) would be needed for an exact global limit.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import attrs

STALE_AFTER_SECONDS = 3600.0  # forget buckets of keys idle this long (bounded memory)


@attrs.define
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``hit(key)`` is ``0`` when the request may go on, else the seconds to wait (for ``Retry-After``)."""

    def __init__(self, requests_per_minute: int, *, now: Callable[[], float]) -> None:
        self.capacity = float(requests_per_minute)
        self.rate = requests_per_minute / 60.0  # tokens per second
        self.now = now
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        with self._lock:
            now = self.now()
            bucket = self._buckets.get(key)
            if bucket is None:
                self._forget_stale(now)
                bucket = self._buckets[key] = _Bucket(tokens=self.capacity, updated=now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_stale(self, now: float) -> None:
        stale = [k for k, b in self._buckets.items() if now - b.updated > STALE_AFTER_SECONDS]
        for key in stale:
            del self._buckets[key]
