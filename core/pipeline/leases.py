"""Keeping claims while their work runs: a heartbeat that renews a batch's leases.

A lease says how long a claim lasts once its worker goes silent. Work may take longer than that (a
batch of handlers waiting on a slow provider), so while it runs a thread renews the batch's claims
every third of the lease: only a worker that died, or work stuck longer than ``max_hold``, lets its
claims run out and pass to another worker. Without it a live worker's claims expired mid-batch,
another worker ran the same handlers again, and the first one's results were dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType

from sqlalchemy import Engine, Table

from core.clock import Clock
from core.pipeline.claims import renew_claims

log = logging.getLogger("intellectra.pipeline.leases")


class LeaseKeeper:
    """``with LeaseKeeper(...):`` renews this worker's claims on ``ids`` until the block ends."""

    def __init__(self, engine: Engine, table: Table, ids: Sequence[str], *, worker_id: str, clock: Clock,
                 lease: timedelta, max_hold: timedelta) -> None:
        self.engine = engine
        self.table = table
        self.ids = list(ids)
        self.worker_id = worker_id
        self.clock = clock
        self.lease = lease
        self.max_hold = max_hold
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        if self.ids:
            self._thread = threading.Thread(target=self._run, name="intellectra-lease", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        started = self.clock.now()
        # Real seconds, whatever the clock: the heartbeat must beat while a test's clock stands still.
        while not self._stop.wait(self.lease.total_seconds() / 3):
            if self.clock.now() - started >= self.max_hold:
                log.warning("%d %s claim(s) of worker %s held for %s and still running; no longer renewed, so "
                            "another worker may take them over", len(self.ids), self.table.name, self.worker_id,
                            self.max_hold)
                return
            try:
                self.renew()
            except Exception as exc:  # the database may be briefly away: the next beat tries again
                log.warning("could not renew %d %s claim(s): %s: %s", len(self.ids), self.table.name,
                            exc.__class__.__name__, str(exc)[:300])

    def renew(self) -> int:
        """Extend the claims to a full lease from now; returns how many are still held."""
        with self.engine.begin() as c:
            return renew_claims(c, self.table, self.ids, worker_id=self.worker_id,
                                until=self.clock.now() + self.lease)
