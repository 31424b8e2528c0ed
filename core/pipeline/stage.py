"""What processing (``core.pipeline.processor``) and observing (``core.pipeline.observer``) share.

Both take due rows of a queue table in three steps, so no transaction is open while plugin code runs:

1. **claim** (one short transaction): due rows of loaded plugins get this worker's lease and one more
   claim counted; a row whose claims kept ending without a result (its workers died) is ``failed``;
2. **run** the plugin on each (no transaction open; on the stage's own threads, claims renewed meanwhile
   by ``LeaseKeeper`` so slow plugins never lose them);
3. **apply** (one transaction for the batch): re-check each claim is still ours (a lease that ran out
   may have passed the row to another worker — then our results are dropped), write what the plugin
   asked for and record every outcome. If the shared transaction fails, each row is applied in its
   own, so one bad result cannot block the rest; one whose results cannot be written is retried.

A stage says which table, how a row becomes an item, how an item is run and how results are written.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import attrs
from sqlalchemy import Table

from core.errors import IntellectraError, PluginError
from core.pipeline.claims import claim_due, new_worker_id, still_ours
from core.pipeline.leases import LeaseKeeper
from core.redact import redact

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB

    from core.pipeline.ports import StageOwner

MAX_ERROR = 2000
FAILED = "failed"


def describe(exc: BaseException) -> str:
    """The error text stored in ``last_error``: the plugin's own exception, never a secret."""
    cause = exc.__cause__ if isinstance(exc, PluginError) and exc.__cause__ is not None else exc
    text = cause.message if isinstance(cause, IntellectraError) else f"{cause.__class__.__name__}: {cause}"
    return redact(text)[:MAX_ERROR]


@attrs.define(kw_only=True)
class StageReport:
    """What a batch (or a drain of several) did; ``claimed`` is 0 when nothing was due."""

    claimed: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    """Claims that ran out and went to another worker; their results were dropped."""

    def add(self, other: StageReport) -> None:
        for field in attrs.fields(type(self)):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def outcomes(self) -> dict[str, int]:
        """Every count but ``claimed``: what the pipeline's counters add up."""
        return {f.name: getattr(self, f.name) for f in attrs.fields(type(self)) if f.name != "claimed"}


class Identified(Protocol):
    """A claimed row as a stage holds it: its id is the claim's key."""

    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=Identified)
Result = TypeVar("Result")
Report = TypeVar("Report", bound=StageReport)


class ClaimedStage(ABC, Generic[Item, Result, Report]):
    table: ClassVar[Table]
    section: ClassVar[str]
    """The pipeline counters' section (``processing``, ``observing``)."""
    noun: ClassVar[str]
    """One row, in log lines (``inbound event``, ``observation``)."""
    doing: ClassVar[tuple[str, str, str]]
    """For a row whose workers died: the step (``Processing``), what they were doing (``handling``) and the
    command that replays it (``events``)."""
    threads_named: ClassVar[str]
    report_type: type[Report]
    log: ClassVar[logging.Logger]

    def __init__(self, pipeline: StageOwner, *, worker_id: str | None = None) -> None:
        self.pipeline = pipeline
        self.host = pipeline.host
        self.worker_id = worker_id or new_worker_id()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    # ------------------------------------------------------------------ what a stage says
    @abstractmethod
    def claim(self, limit: int | None = None) -> list[Item]:
        """Claim up to ``limit`` due rows for this worker (``claim_rows``) and read them as items."""

    @abstractmethod
    def run(self, items: Sequence[Item]) -> list[Result]:
        """Call the plugins for the claimed items, with no transaction open; never raises for a plugin."""

    @abstractmethod
    def result_id(self, result: Result) -> str:
        """The id of the row a result belongs to."""

    @abstractmethod
    def outcome(self, result: Result) -> str:
        """The report's field the result counts in."""

    @abstractmethod
    def failure(self, result: Result, error: str) -> Result:
        """The result as a failed attempt: retried, or ``failed`` after the last one."""

    @abstractmethod
    def write(self, c: DB, mine: Sequence[Result], now: datetime) -> None:
        """Apply what the plugin asked for and record every outcome, in the caller's transaction."""

    def applied(self, report: Report, mine: Sequence[Result]) -> None:
        """After the commit (wake the stages the results queued work for)."""

    # ------------------------------------------------------------------ driving
    def run_batch(self, limit: int | None = None) -> Report:
        """Claim, run and apply one batch; ``claimed == 0`` means nothing was due."""
        items = self.claim(limit)
        if not items:
            return self.report_type()
        with self.keep_claims([i.id for i in items]):
            results = self.run(items)
        report = self.apply(results)
        report.claimed = len(items)
        return report

    def drain(self) -> Report:
        """Run batches until nothing is due (``run_once``, tests, ``worker --once``)."""
        total = self.report_type()
        while True:
            report = self.run_batch()
            if report.claimed == 0:
                return total
            total.add(report)

    def keep_claims(self, ids: Sequence[str]) -> LeaseKeeper:
        """Renew this worker's claims on ``ids`` while a ``with`` block runs."""
        config = self.pipeline.config
        return LeaseKeeper(self.host.store.engine, self.table, ids, worker_id=self.worker_id, clock=self.host.clock,
                           lease=timedelta(seconds=config.lease_seconds),
                           max_hold=timedelta(seconds=config.max_hold_seconds))

    def close(self) -> None:
        """Stop the stage's threads (``Pipeline.close``)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ------------------------------------------------------------------ 1. claim
    def claim_rows(self, limit: int | None, names: Sequence[str], **finished: Any) -> list[Any]:
        """Claim due rows of ``names``; those whose workers died too often are ``failed`` (with
        ``finished`` values) and left out."""
        if not names:  # nothing here runs: no need to ask the database (an idle loop asks often)
            return []
        config = self.pipeline.config
        table = self.table
        engine = self.host.store.engine
        with engine.begin() as c:
            rows = claim_due(c, engine, table, worker_id=self.worker_id, now=self.host.clock.now(),
                             lease=timedelta(seconds=config.lease_seconds), limit=limit or config.batch_size,
                             where=[table.c.integration.in_(names)], also_set={"claims": table.c.claims + 1})
            crashed = {r.id for r in rows if r.claims - r.attempts >= config.max_attempts}
            if crashed:
                step, doing, command = self.doing
                c.execute(table.update().where(table.c.id.in_(crashed)).values(
                    status=FAILED, claimed_by=None, claimed_until=None, **finished,
                    last_error=f"{step} was started {config.max_attempts} times and never finished (the worker "
                               f"stopped while {doing} it, e.g. crashed or was killed). Fix the cause, then "
                               f"replay it with `intellectra-integrations {command} replay`."))
                self.pipeline.counters.incr(self.section, "failed", by=len(crashed))
                self.log.error("%d %s(s) failed: their workers died %d times while %s them", len(crashed),
                               self.noun, config.max_attempts, doing)
        return [r for r in rows if r.id not in crashed]

    # ------------------------------------------------------------------ 2. run
    def in_threads(self, run_one: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        """``run_one`` over ``items`` on the stage's threads; results in claim order, whatever finishes first."""
        threads = self.pipeline.config.handler_concurrency
        if threads == 1 or len(items) == 1:
            return [run_one(i) for i in items]
        if self._pool is None or self._pool_size != threads:
            self.close()
            self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=self.threads_named)
            self._pool_size = threads
        return list(self._pool.map(run_one, items))

    # ------------------------------------------------------------------ 3. apply
    def apply(self, results: Sequence[Result]) -> Report:
        now = self.host.clock.now()
        try:
            with self.host.store.engine.begin() as c:
                mine = self._apply_in(c, results, now)
        except Exception as exc:
            if len(results) == 1:
                mine = self._apply_alone(results[0], now, exc)
            else:
                self.log.warning("applying a batch of %d %ss failed (%s); applying each on its own",
                                 len(results), self.noun, describe(exc))
                mine = [m for one in results for m in self._apply_alone(one, now, None)]
        report = self.report_type(lost=len(results) - len(mine))
        for result in mine:
            name = self.outcome(result)
            setattr(report, name, getattr(report, name) + 1)
        for name, count in report.outcomes().items():
            self.pipeline.counters.incr(self.section, name, by=count)
        self.applied(report, mine)
        return report

    def _apply_in(self, c: DB, results: Sequence[Result], now: datetime) -> list[Result]:
        engine = self.host.store.engine
        ours = still_ours(c, engine, self.table, [self.result_id(r) for r in results], worker_id=self.worker_id)
        mine = [r for r in results if self.result_id(r) in ours]
        self.write(c, mine, now)
        return mine

    def _apply_alone(self, result: Result, now: datetime, earlier: Exception | None) -> list[Result]:
        """Apply one result in its own transaction; if it cannot be written, retry it later."""
        engine = self.host.store.engine
        if earlier is None:
            try:
                with engine.begin() as c:
                    return self._apply_in(c, [result], now)
            except Exception as exc:
                earlier = exc
        failed = self.failure(result, f"Its results could not be written: {describe(earlier)}")
        self.log.error("%s %s: results could not be written: %s", self.noun, self.result_id(result),
                       describe(earlier))
        with engine.begin() as c:
            return self._apply_in(c, [failed], now)

