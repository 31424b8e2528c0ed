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
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, cast

import attrs
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from core.store.tables import inbound_events

log = logging.getLogger("intellectra.pipeline.intake")


COLUMNS = ("id", "integration", "external_id", "type", "account", "livemode", "tenant_id", "payload", "status",
           "attempts", "next_attempt_at", "received_at")
"""What intake writes of an inbound event (``Intake._rows``); the other columns keep their defaults."""
CHUNK = 500
"""Rows per multi-row INSERT (12 parameters each: far below SQLite's and PostgreSQL's limits)."""


SHUT_DOWN = "intake is shut down; the server is stopping, retry later"


def insert_events(engine: Engine, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert inbound event rows in one transaction, skipping (integration, external_id) duplicates.

    Returns the ids of the rows actually inserted; a duplicate (stored earlier, or twice in
    ``rows``) is left out. Committed when this returns. A database error is raised as SQLAlchemy's
    (a ``SQLAlchemyError``: intake answers 503 for it), without the rows' values in its message.
    """
    if not rows:
        return set()
    inserter = _inserter(engine)
    raw = inserter.checkout(engine)
    try:
        return inserter.write(raw, rows)
    finally:
        inserter.release(raw)


class _Inserter:
    """The intake INSERT in the driver's own terms, for one dialect, run on a pooled DBAPI connection.

    It is the hot path of every webhook: SQLAlchemy's execution of even a cached statement (events,
    execution context, result) cost ~110 us of CPU per transaction on top of the driver's ~35 us
    (bench/README.md). Values still go through the columns' own bind processing (UTC datetimes,
    booleans), so what is stored is what SQLAlchemy would store, and errors are raised as SQLAlchemy's.
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self.dialect = dialect
        self.dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self.sqlite = dialect.name == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self.head = f"INSERT INTO {inbound_events.name} ({', '.join(COLUMNS)}) VALUES "
        self.values = "(" + ", ".join([mark] * len(COLUMNS)) + ")"
        self.single = f"{self.head}{self.values} ON CONFLICT DO NOTHING"
        processors = [inbound_events.c[name].type.bind_processor(dialect) for name in COLUMNS]
        self.processors = list(zip(COLUMNS, processors, strict=True))

    def checkout(self, engine: Engine) -> Any:
        """A pooled connection (a ``PoolProxiedConnection``); give it back with :meth:`release`."""
        try:
            raw: Any = engine.raw_connection()
        except self.dbapi_error as exc:  # the pool hands the driver's own error out as it is
            raise DBAPIError.instance(None, None, exc, self.dbapi_error, dialect=self.dialect) from exc
        if not self.sqlite:
            # PostgreSQL: a single statement outside a transaction is its own transaction, committed
            # (and flushed, with synchronous_commit on) before the server answers it: one round trip
            # instead of three (BEGIN, INSERT, COMMIT).
            raw.driver_connection.autocommit = True
        return raw

    def release(self, raw: Any) -> None:
        if not self.sqlite and raw.is_valid:
            with contextlib.suppress(self.dbapi_error):
                raw.driver_connection.autocommit = False  # as the pool's other users expect it
        raw.close()

    def params(self, row: dict[str, Any]) -> list[Any]:
        return [row[name] if process is None or row[name] is None else process(row[name])
                for name, process in self.processors]

    def write(self, raw: Any, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert ``rows`` and commit, on a connection from :meth:`checkout`."""
        driver = raw.driver_connection
        cursor = None
        statement = self.single
        # One statement is atomic by itself; several (a group past CHUNK rows) get a transaction around them.
        several = len(rows) > CHUNK
        try:
            cursor = driver.cursor()
            if self.sqlite:  # writers take the write lock up front, as every writer here does (core/store/dialect.py)
                cursor.execute("BEGIN IMMEDIATE")
            elif several:
                cursor.execute("BEGIN")
            if len(rows) == 1:  # one webhook, one event: no RETURNING, the row count says
                (row,) = rows
                cursor.execute(statement, self.params(row))
                inserted = {row["id"]} if cursor.rowcount == 1 else set()
            else:
                inserted = set()
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start:start + CHUNK]
                    values = ", ".join([self.values] * len(chunk))
                    statement = f"{self.head}{values} ON CONFLICT DO NOTHING RETURNING id"
                    cursor.execute(statement, [value for row in chunk for value in self.params(row)])
                    inserted.update(found for (found,) in cursor.fetchall())
            if self.sqlite or several:
                cursor.execute("COMMIT")
        except self.dbapi_error as exc:
            invalidated = self.dialect.is_disconnect(cast(Any, exc), driver, cursor)
            if invalidated:
                raw.invalidate(exc)
            elif cursor is not None and (self.sqlite or several):
                with contextlib.suppress(self.dbapi_error):
                    cursor.execute("ROLLBACK")
            raise DBAPIError.instance(statement, None, exc, self.dbapi_error, hide_parameters=True,
                                      connection_invalidated=invalidated, dialect=self.dialect) from exc
        finally:
            if cursor is not None:
                with contextlib.suppress(self.dbapi_error):
                    cursor.close()
        return inserted


_INSERTERS: dict[str, _Inserter] = {}


def _inserter(engine: Engine) -> _Inserter:
    inserter = _INSERTERS.get(engine.dialect.name)
    if inserter is None:
        inserter = _INSERTERS[engine.dialect.name] = _Inserter(engine)
    return inserter


class _HeldConnection:
    """The writer thread's own pooled connection, kept between commits.

    Checking one out per commit cost a pool round (and on PostgreSQL the pre-ping's round trip) per
    group. It is given back after ``max_age`` seconds (like the pool's recycling), when the engine is
    replaced, after any error (the failed group's requests are then retried on fresh connections),
    and when the writer stops.
    """

    def __init__(self, max_age: float = 300.0) -> None:
        self.max_age = max_age
        self._engine: Engine | None = None
        self._raw: Any = None
        self._since = 0.0

    def insert(self, engine: Engine, rows: Sequence[dict[str, Any]]) -> set[str]:
        inserter = _inserter(engine)
        if self._raw is not None and (engine is not self._engine or time.monotonic() - self._since > self.max_age):
            self.release()
        if self._raw is None:
            self._raw, self._engine, self._since = inserter.checkout(engine), engine, time.monotonic()
        try:
            return inserter.write(self._raw, rows)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        raw, engine, self._raw, self._engine = self._raw, self._engine, None, None
        if raw is not None and engine is not None:
            with contextlib.suppress(Exception):
                _inserter(engine).release(raw)


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
        self._connection = _HeldConnection()

    def submit(self, rows: Sequence[dict[str, Any]]) -> Future[set[str]]:
        """Queue ``rows``; the future gets the ids inserted (not duplicates) once committed."""
        future: Future[set[str]] = Future()
        if self._closed:
            future.set_exception(RuntimeError(SHUT_DOWN))
            return future
        self._ensure_thread()
        self._queue.put(_Pending(rows=rows, future=future))
        return future

    def enqueue(self, rows: Sequence[dict[str, Any]], loop: asyncio.AbstractEventLoop,
                waiter: asyncio.Future[set[str]]) -> None:
        """From any thread: queue ``rows``; ``waiter`` gets the ids inserted, on ``loop``, once committed.

        The writer wakes each loop once per commit for all of its requests, instead of once per
        request through ``concurrent.futures`` (a lock, a condition and a self-pipe write each).
        """
        if self._closed:
            error = RuntimeError(SHUT_DOWN)
            self._deliver([(_Pending(rows=rows, loop=loop, waiter=waiter), None, error)])
            return
        self._ensure_thread()
        self._queue.put(_Pending(rows=rows, loop=loop, waiter=waiter))

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
        try:
            self._drain()
        finally:
            self._connection.release()

    def _drain(self) -> None:
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
            inserted = self._insert(rows)
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

    def _insert(self, rows: list[dict[str, Any]]) -> set[str]:
        engine = self._engine()
        try:
            return self._connection.insert(engine, rows)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # The kept connection had gone (a database restart, an idle timeout): once more on a fresh one,
        # as a checkout from the pool (which pings first) would have done.
        return self._connection.insert(engine, rows)

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
