"""Counters an operator reads on ``/healthz``: what intake accepted and refused, what workers did.

Thread-safe (intake, workers and the web app run on different threads). Integration names that
are not loaded are counted under ``(unknown)`` so a scanner cannot grow the table.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

UNKNOWN = "(unknown)"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, ...]] = Counter()

    def incr(self, *key: str, by: int = 1) -> None:
        if by:
            with self._lock:
                self._counts[key] += by

    def get(self, *key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)

    def snapshot(self) -> dict[str, Any]:
        """Nested dict: ``{"intake": {"rejected": {"stripe_connect": {"signature_invalid": 2}}}, ...}``."""
        with self._lock:
            items = sorted(self._counts.items())
        out: dict[str, Any] = {"intake": {}, "processing": {}, "delivery": {}}
        for key, count in items:
            node = out
            for part in key[:-1]:
                node = node.setdefault(part, {})
            node[key[-1]] = count
        return out
