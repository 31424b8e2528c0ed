"""Group commit for intake: concurrent webhook requests share one INSERT and one COMMIT.

A per-request commit costs a disk sync (SQLite) or a round trip (PostgreSQL) each, which caps
intake far below what the HTTP stack can take. Here one writer thread drains a queue: every
request that arrived while the previous commit ran goes into the next transaction, and each
request's future resolves only after that commit — so a 2xx still means "durable". If a shared
transaction fails, each request is retried in its own transaction so one bad row cannot fail the
others, and each request gets its own outcome (its rows, or its own error).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import attrs
from sqlalchemy import Engine

from core.store.dialect import insert_ignoring_conflicts
from core.store.tables import inbound_events

log = logging.getLogger("intellectra.pipeline.intake")


def insert_events(engine: Engine, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert inbound event rows in one transaction, skipping (integration, external_id) duplicates.

    Returns the ids of the rows actually inserted; a duplicate (stored earlier, or twice in
    ``rows``) is left out. Committed when this returns.
    """
    if not rows:
        return set()
    stmt = insert_ignoring_conflicts(engine, inbound_events).returning(inbound_events.c.id)
    with engine.begin() as c:
        return set(c.execute(stmt, list(rows)).scalars())


@attrs.define
class _Pending:
    rows: Sequence[dict[str, Any]]
    future: Future[set[str]]


_STOP = object()


class GroupCommitWriter:
    """One thread that writes queued inbound rows in shared transactions."""

    def __init__(self, engine: Callable[[], Engine], *, max_group: int = 512, name: str = "intake-writer") -> None:
        self._engine = engine
        self._max_group = max_group
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, rows: Sequence[dict[str, Any]]) -> Future[set[str]]:
        """Queue ``rows``; the future gets the ids inserted (not duplicates) once committed."""
        future: Future[set[str]] = Future()
        if self._closed:
            future.set_exception(RuntimeError("intake is shut down; the server is stopping, retry later"))
            return future
        self._ensure_thread()
        self._queue.put(_Pending(rows=rows, future=future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while True:
            if stopping:
                try:  # requests that raced with close() are still written, never left hanging
                    first = self._queue.get_nowait()
                except queue.Empty:
                    return
            else:
                first = self._queue.get()
            if first is _STOP:
                stopping = True
                continue
            group: list[_Pending] = [first]
            while len(group) < self._max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    continue
                group.append(item)
            self._write(group)

    def _write(self, group: list[_Pending]) -> None:
        rows = [row for pending in group for row in pending.rows]
        try:
            inserted = insert_events(self._engine(), rows)
        except Exception as exc:
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            log.warning("shared intake commit of %d requests failed (%s); retrying each on its own",
                        len(group), exc.__class__.__name__)
            for pending in group:
                try:
                    pending.future.set_result(insert_events(self._engine(), pending.rows))
                except Exception as own:
                    pending.future.set_exception(own)
            return
        for pending in group:
            pending.future.set_result({row["id"] for row in pending.rows} & inserted)
