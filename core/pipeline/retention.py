"""Retention: delete what is finished and older than the window, a small batch per transaction.

    prune(host, older_than=timedelta(days=30))      # `events prune --older-than 30d`
    INTELLECTRA_RETENTION=30d                       # `serve` and `worker` prune on a schedule

Beyond the window it deletes, in this order (each step leaves the next one's rows unreferenced):

1. deliveries that were ``delivered`` or ``cancelled``;
2. observations that were ``observed`` or ``skipped``;
3. domain events no delivery or observation refers to any more, unless their inbound event is still
   waiting;
4. inbound events that were ``processed`` or ``ignored`` and that no domain event refers to;
5. connect states that expired.

It never deletes anything ``pending``, and keeps ``failed`` events and observations and ``dead``
deliveries (they wait for an operator to replay or retry them) unless ``include_failed`` is given. A
row counts as old only when it was both created and finished before the window (a delivery retried
and delivered yesterday stays). Audit rows are the record of who connected what: they are deleted
only with their own, usually longer, window (``audit_older_than`` / ``INTELLECTRA_AUDIT_RETENTION``).

Every batch re-checks its conditions in the ``DELETE`` itself, so a row replayed or retried between
the batch's select and its delete is left alone; batches are small so no lock is held for long and
intake and the workers go on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import ColumnElement, Table, and_, delete, exists, literal, or_, select, tuple_

from core.errors import ConfigError
from core.store.tables import audit_log, connect_states, deliveries, domain_events, inbound_events, observations

if TYPE_CHECKING:
    from core.pipeline.ports import PipelineHost

log = logging.getLogger("intellectra.pipeline.retention")

BATCH_SIZE = 1000
DEFAULT_INTERVAL = timedelta(hours=1)
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_RE = re.compile(r"(\d+)([smhdw])")
DURATION_HELP = "a number and a unit (s, m, h, d or w), like 30d, 12h or 90m"


def parse_duration(text: str, *, what: str = "The duration") -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or a sum of them (``1d12h``); never zero or negative."""
    compact = text.strip().lower()
    parts = DURATION_RE.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ConfigError(f"{what} {text!r} is not a duration; write {DURATION_HELP}.", code="duration_invalid")
    total = sum((timedelta(**{UNITS[unit]: int(number)}) for number, unit in parts), timedelta())
    if total <= timedelta():
        raise ConfigError(f"{what} {text!r} is zero; write {DURATION_HELP}.", code="duration_invalid")
    return total


@attrs.frozen(kw_only=True)
class RetentionPolicy:
    """What the workers prune on their own, and how often. ``window=None``: they never do."""

    window: timedelta | None = None
    audit_window: timedelta | None = None
    interval: timedelta = DEFAULT_INTERVAL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
        """``INTELLECTRA_RETENTION``, ``INTELLECTRA_AUDIT_RETENTION``, ``INTELLECTRA_RETENTION_INTERVAL``."""
        env = os.environ if environ is None else environ

        def read(name: str) -> timedelta | None:
            raw = env.get(name, "").strip()
            return parse_duration(raw, what=name) if raw else None

        return cls(window=read("INTELLECTRA_RETENTION"), audit_window=read("INTELLECTRA_AUDIT_RETENTION"),
                   interval=read("INTELLECTRA_RETENTION_INTERVAL") or DEFAULT_INTERVAL)


@attrs.define(kw_only=True)
class PruneReport:
    """Rows deleted per table (``--json`` prints this), and how many transactions it took."""

    inbound_events: int = 0
    domain_events: int = 0
    deliveries: int = 0
    observations: int = 0
    connect_states: int = 0
    audit_log: int = 0
    batches: int = 0

    @property
    def total(self) -> int:
        return (self.inbound_events + self.domain_events + self.deliveries + self.observations + self.connect_states
                + self.audit_log)

    def as_json(self) -> dict[str, int]:
        return attrs.asdict(self)


def prune(host: PipelineHost, *, older_than: timedelta, include_failed: bool = False,
          audit_older_than: timedelta | None = None, batch_size: int = BATCH_SIZE,
          progress: Callable[[str, int], None] | None = None) -> PruneReport:
    """Delete what is finished and older than ``older_than`` (see the module docstring); returns counts."""
    if older_than <= timedelta():
        raise ConfigError("The retention window must be longer than zero.", code="duration_invalid")
    now = host.clock.now()
    report = PruneReport()
    for step in _steps(now - older_than, include_failed):
        _delete_in_batches(host, step, batch_size, report, progress)
    if audit_older_than is not None:
        audit_cutoff = now - audit_older_than
        _delete_in_batches(host, Step("audit_log", audit_log, audit_log.c.created_at, audit_cutoff,
                                      audit_log.c.created_at < audit_cutoff), batch_size, report, progress)
    if report.total:
        log.info("retention: deleted %s", ", ".join(f"{v} {k}" for k, v in report.as_json().items()
                                                      if v and k != "batches"))
    return report


@attrs.frozen
class Step:
    """One table's pruning: rows older than ``cutoff`` by ``age`` are candidates, ``condition`` decides."""

    name: str
    table: Table
    age: Any
    cutoff: datetime
    condition: ColumnElement[bool]


def _steps(cutoff: datetime, include_failed: bool) -> list[Step]:
    finished_events = ["processed", "ignored", *(["failed"] if include_failed else [])]
    finished_deliveries = ["delivered", "cancelled", *(["dead"] if include_failed else [])]
    finished_observations = ["observed", "skipped", *(["failed"] if include_failed else [])]
    old_observations = and_(observations.c.status.in_(finished_observations), observations.c.created_at < cutoff,
                            or_(observations.c.finished_at.is_(None), observations.c.finished_at < cutoff))
    old_deliveries = and_(deliveries.c.status.in_(finished_deliveries), deliveries.c.created_at < cutoff,
                          or_(deliveries.c.delivered_at.is_(None), deliveries.c.delivered_at < cutoff))
    old_domain_events = and_(
        domain_events.c.created_at < cutoff,
        ~exists().where(deliveries.c.domain_event_id == domain_events.c.id),
        ~exists().where(observations.c.domain_event_id == domain_events.c.id),
        ~exists().where(inbound_events.c.id == domain_events.c.inbound_event_id,
                        inbound_events.c.status.not_in(finished_events)))
    old_inbound_events = and_(
        inbound_events.c.status.in_(finished_events), inbound_events.c.received_at < cutoff,
        or_(inbound_events.c.processed_at.is_(None), inbound_events.c.processed_at < cutoff),
        ~exists().where(domain_events.c.inbound_event_id == inbound_events.c.id))
    return [Step("deliveries", deliveries, deliveries.c.created_at, cutoff, old_deliveries),
            Step("observations", observations, observations.c.created_at, cutoff, old_observations),
            Step("domain_events", domain_events, domain_events.c.created_at, cutoff, old_domain_events),
            Step("inbound_events", inbound_events, inbound_events.c.received_at, cutoff, old_inbound_events),
            Step("connect_states", connect_states, connect_states.c.expires_at, cutoff,
                 connect_states.c.expires_at < cutoff)]


def _delete_in_batches(host: PipelineHost, step: Step, batch_size: int, report: PruneReport,
                       progress: Callable[[str, int], None] | None) -> None:
    """Walk the table's old rows oldest first, a page of ``batch_size`` per transaction (keyset paging on
    the age index), and delete those of the page that ``step.condition`` allows.

    The page is found by the age index alone and the full condition (``NOT EXISTS`` and all) is checked
    only for the page's rows in the ``DELETE``: asked for "the first N rows that qualify", PostgreSQL
    joined every delivery to every domain event per batch (0.8 s each at a million rows), and rows kept
    on purpose (a dead delivery's event) would be read again by every later batch."""
    table, age = step.table, step.age
    after: tuple[Any, str] | None = None
    while True:
        page = select(table.c.id, age.label("age")).where(age < step.cutoff).order_by(age, table.c.id)
        if after is not None:
            # Typed binds: the age column's UTC conversion must apply to the key as it does to the column.
            page = page.where(tuple_(age, table.c.id) > tuple_(literal(after[0], age.type),
                                                               literal(after[1], table.c.id.type)))
        with host.store.begin() as c:
            rows = c.execute(page.limit(batch_size)).all()
            if not rows:
                return
            ids = [r.id for r in rows]
            deleted = c.execute(delete(table).where(table.c.id.in_(ids), step.condition)).rowcount
        report.batches += 1
        setattr(report, step.name, getattr(report, step.name) + deleted)
        if progress is not None and deleted:
            progress(step.name, deleted)
        if len(rows) < batch_size:
            return
        after = (rows[-1].age, rows[-1].id)


async def run_on_schedule(host: PipelineHost, policy: RetentionPolicy, stop: asyncio.Event) -> None:
    """Prune every ``policy.interval`` until ``stop`` is set; a failed run is logged and tried next time."""
    window = policy.window
    if window is None:
        return
    while not stop.is_set():
        try:
            await asyncio.to_thread(prune, host, older_than=window, audit_older_than=policy.audit_window)
        except Exception as exc:
            log.error("retention: pruning failed (%s: %s); trying again in %s", exc.__class__.__name__,
                      str(exc)[:300], policy.interval)
        try:
            await asyncio.wait_for(stop.wait(), timeout=policy.interval.total_seconds())
        except TimeoutError:
            continue


__all__ = ["PruneReport", "RetentionPolicy", "parse_duration", "prune", "run_on_schedule"]
