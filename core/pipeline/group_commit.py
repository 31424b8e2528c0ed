"""Group commit for intake: concurrent webhook requests share one INSERT and one COMMIT.

A per-request commit costs a disk sync (SQLite) or a round trip (PostgreSQL) each, which caps
intake far below what the HTTP stack can take. Here one writer thread drains a queue: every
request that arrived while the previous commit ran goes into the next transaction, and each
request's future resolves only after that commit — so a 2xx still means "durable". If a shared
transaction fails, each request is retried in its own transaction so one bad row cannot fail the
others, and each request gets its own outcome (its rows, or its own error).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import attrs
from sqlalchemy import Engine
from sqlalchemy.sql.dml import Insert

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
    with engine.begin() as c:
        if len(rows) == 1:  # the common case (one webhook, one event): no RETURNING round, the row count says
            (row,) = rows
            return {row["id"]} if c.execute(_insert_statement(engine, returning=False), row).rowcount == 1 else set()
        return set(c.execute(_insert_statement(engine, returning=True), list(rows)).scalars())


_STATEMENTS: dict[tuple[str, bool], Insert] = {}


def _insert_statement(engine: Engine, *, returning: bool) -> Insert:
    """The intake INSERT, built once per dialect: rebuilding it per request cost ~45 us of SQLAlchemy's
    statement construction and cache-key generation (bench/README.md)."""
    key = (engine.dialect.name, returning)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = insert_ignoring_conflicts(engine, inbound_events)
        # Without RETURNING the row count tells inserted (1) from duplicate (0); SQLAlchemy keeps an
        # INSERT's row count only when asked (psycopg's would read -1 otherwise).
        stmt = stmt.returning(inbound_events.c.id) if returning else stmt.execution_options(preserve_rowcount=True)
        _STATEMENTS[key] = stmt
    return stmt


@attrs.define
class _Pending:
    rows: Sequence[dict[str, Any]]
    future: Future[set[str]] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[set[str]] | None = None
    """``submit_async``: resolved on ``loop``, one wake-up of the loop per commit (not one per request)."""


def _settle(outcomes: list[tuple[asyncio.Future[set[str]], set[str] | None, BaseException | None]]) -> None:
    """On the event loop: resolve the waiters of one commit (a request that went away is skipped)."""
    for waiter, result, error in outcomes:
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result if result is not None else set())


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

    def submit_async(self, rows: Sequence[dict[str, Any]]) -> asyncio.Future[set[str]]:
        """``submit`` for the event loop: an asyncio future, resolved on this loop after the commit.

        The writer wakes the loop once per commit for all of its requests, instead of once per
        request through ``concurrent.futures`` (a lock, a condition and a self-pipe write each).
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[set[str]] = loop.create_future()
        if self._closed:
            waiter.set_exception(RuntimeError("intake is shut down; the server is stopping, retry later"))
            return waiter
        self._ensure_thread()
        self._queue.put(_Pending(rows=rows, loop=loop, waiter=waiter))
        return waiter

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
        outcomes: list[tuple[_Pending, set[str] | None, BaseException | None]] = []
        try:
            inserted = insert_events(self._engine(), rows)
        except Exception as exc:
            if len(group) == 1:
                outcomes.append((group[0], None, exc))
            else:
                log.warning("shared intake commit of %d requests failed (%s); retrying each on its own",
                            len(group), exc.__class__.__name__)
                for pending in group:
                    try:
                        outcomes.append((pending, insert_events(self._engine(), pending.rows), None))
                    except Exception as own:
                        outcomes.append((pending, None, own))
        else:
            outcomes = [(pending, {row["id"] for row in pending.rows} & inserted, None) for pending in group]
        self._deliver(outcomes)

    @staticmethod
    def _deliver(outcomes: list[tuple[_Pending, set[str] | None, BaseException | None]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[set[str]], set[str] | None,
                                                            BaseException | None]]] = {}
        for pending, result, error in outcomes:
            if pending.future is not None:
                if error is not None:
                    pending.future.set_exception(error)
                else:
                    pending.future.set_result(result if result is not None else set())
            elif pending.loop is not None and pending.waiter is not None:
                by_loop.setdefault(pending.loop, []).append((pending.waiter, result, error))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, items)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                log.warning("intake: %d request(s) finished after their event loop closed", len(items))
