"""Processing: claimed inbound events → the integration's ``handle_event`` → applied exactly once.

A batch goes through three steps, so no transaction is open while plugin code runs:

1. **claim** (one short transaction): due events of loaded integrations get this worker's lease
   and one more claim counted; an event whose claims ended without a result too often (its workers
   died) is ``failed``;
2. **handle** (no transaction): route each event by ``event.account`` to the connection that owns
   the account, call the addressed ``handle_event``, keep its domain events and effects; meanwhile
   the batch's claims are renewed (``LeaseKeeper``), so slow handlers never lose them;
3. **apply** (one transaction for the batch): re-check each claim is still ours (a lease that ran
   out may have passed the event to another worker — then our results are dropped), apply effects,
   write domain events with their outbox rows, and record every outcome with one more attempt
   (attempts count handler runs, claims count takers: a dead worker used no attempt). If the shared
   transaction fails, each event is applied in its own so one bad result cannot block the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import bindparam, select, tuple_

from core.connections import connection_from_row
from core.context import Effects
from core.effects import apply_effects
from core.errors import IgnoreEvent, IntellectraError, PluginError
from core.events import NewDomainEvent
from core.models import Connection, StoredEvent, Tenant
from core.pipeline.claims import claim_due, new_worker_id, still_ours
from core.pipeline.leases import LeaseKeeper
from core.pipeline.rows import stored_event_from_row
from core.redact import redact
from core.store.tables import connections, inbound_events, tenants
from core.telemetry import traced_handling
from core.tenants import tenant_from_row

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB

    from core.pipeline import Pipeline

log = logging.getLogger("intellectra.pipeline.processor")

PROCESSED, IGNORED, RETRY, FAILED = "processed", "ignored", "retry", "failed"
MAX_ERROR = 2000


@attrs.define(kw_only=True)
class Handled:
    """One event after its handler ran: what to apply and which status it ends in."""

    event: StoredEvent
    outcome: str
    tenant: Tenant | None = None
    connection: Connection | None = None
    new_events: list[NewDomainEvent] = attrs.field(factory=list)
    effects: Effects | None = None
    error: str | None = None


@attrs.define(kw_only=True)
class BatchReport:
    """What a batch (or a drain of several) did; ``claimed`` is 0 when nothing was due."""

    claimed: int = 0
    processed: int = 0
    ignored: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    """Claims that ran out and went to another worker; their results were dropped."""

    def add(self, other: BatchReport) -> None:
        for field in attrs.fields(BatchReport):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def describe(exc: BaseException) -> str:
    """The error text stored in ``last_error``: the plugin's own exception, never a secret."""
    cause = exc.__cause__ if isinstance(exc, PluginError) and exc.__cause__ is not None else exc
    text = cause.message if isinstance(cause, IntellectraError) else f"{cause.__class__.__name__}: {cause}"
    return redact(text)[:MAX_ERROR]


class Processor:
    def __init__(self, pipeline: Pipeline, *, worker_id: str | None = None) -> None:
        self.pipeline = pipeline
        self.host = pipeline.host
        self.worker_id = worker_id or new_worker_id()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    # ------------------------------------------------------------------ driving
    def run_batch(self, limit: int | None = None) -> BatchReport:
        """Claim, handle and apply one batch; ``claimed == 0`` means nothing was due."""
        events = self.claim(limit)
        if not events:
            return BatchReport()
        with self.keep_claims([e.id for e in events]):
            handled = self.handle(events)
        report = self.apply(handled)
        report.claimed = len(events)
        return report

    def drain(self) -> BatchReport:
        """Process batches until nothing is due (``run_once``, tests, ``worker --once``)."""
        total = BatchReport()
        while True:
            report = self.run_batch()
            if report.claimed == 0:
                return total
            total.add(report)

    def keep_claims(self, ids: Sequence[str]) -> LeaseKeeper:
        """Renew this worker's claims on ``ids`` while a ``with`` block runs."""
        config = self.pipeline.config
        return LeaseKeeper(self.host.store.engine, inbound_events, ids, worker_id=self.worker_id,
                           clock=self.host.clock, lease=timedelta(seconds=config.lease_seconds),
                           max_hold=timedelta(seconds=config.max_hold_seconds))

    # ------------------------------------------------------------------ 1. claim
    def claim(self, limit: int | None = None) -> list[StoredEvent]:
        config = self.pipeline.config
        names = [r.name for r in self.host.plugins.loaded()]
        if not names:
            return []
        engine = self.host.store.engine
        now = self.host.clock.now()
        with engine.begin() as c:
            rows = claim_due(c, engine, inbound_events, worker_id=self.worker_id, now=now,
                             lease=timedelta(seconds=config.lease_seconds), limit=limit or config.batch_size,
                             where=[inbound_events.c.integration.in_(names)],
                             also_set={"claims": inbound_events.c.claims + 1})
            crashed = [r for r in rows if r.claims - r.attempts >= config.max_attempts]
            if crashed:
                c.execute(inbound_events.update().where(inbound_events.c.id.in_([r.id for r in crashed])).values(
                    status=FAILED, claimed_by=None, claimed_until=None,
                    last_error=f"Processing was started {config.max_attempts} times and never finished (the worker "
                               "stopped while handling it, e.g. crashed or was killed). Fix the cause, then "
                               "replay it with `intellectra-integrations events replay`."))
                self.pipeline.counters.incr("processing", "failed", by=len(crashed))
                log.error("%d inbound event(s) failed: their workers died %d times while handling them",
                          len(crashed), config.max_attempts)
        crashed_ids = {r.id for r in crashed}
        return [attrs.evolve(stored_event_from_row(r), attempts=r.attempts + 1) for r in rows
                if r.id not in crashed_ids]

    # ------------------------------------------------------------------ 2. handle
    def handle(self, events: Sequence[StoredEvent]) -> list[Handled]:
        routes = self._routes(events)

        def one(event: StoredEvent) -> Handled:
            return traced_handling(event, lambda: self._handle_one(
                event, *routes.get((event.integration, event.account), (None, None))))

        threads = self.pipeline.config.handler_concurrency
        if threads == 1 or len(events) == 1:
            return [one(event) for event in events]
        if self._pool is None or self._pool_size != threads:
            self.close()
            self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="intellectra-handler")
            self._pool_size = threads
        return list(self._pool.map(one, events))  # results in claim order, whatever finishes first

    def close(self) -> None:
        """Stop the handler threads (``Pipeline.close``)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _routes(self, events: Sequence[StoredEvent]) -> dict[tuple[str, str | None], tuple[Tenant, Connection]]:
        """Owners of the batch's accounts, in two queries (not two per event)."""
        keys = {(e.integration, e.account) for e in events if e.account}
        if not keys:
            return {}
        with self.host.store.read() as c:
            owned = [connection_from_row(r) for r in c.execute(select(connections).where(
                tuple_(connections.c.integration, connections.c.external_id).in_(sorted(keys))))]  # type: ignore[arg-type]
            tenant_ids = sorted({con.tenant_id for con in owned})
            found = {t.id: t for t in (tenant_from_row(r) for r in c.execute(
                select(tenants).where(tenants.c.id.in_(tenant_ids))))} if tenant_ids else {}
        return {(con.integration, con.external_id): (found[con.tenant_id], con) for con in owned
                if con.tenant_id in found}

    def _handle_one(self, event: StoredEvent, tenant: Tenant | None, connection: Connection | None) -> Handled:
        event = attrs.evolve(event, tenant_id=tenant.id if tenant else None)
        done = Handled(event=event, outcome=PROCESSED, tenant=tenant, connection=connection)
        try:
            ctx = self.host.context(event.integration, tenant=tenant, connection=connection)
            result = self.host.plugins.call(event.integration, "handle_event", ctx=ctx, event=event)
            new_events = _domain_events(result)
        except IgnoreEvent as exc:
            return attrs.evolve(done, outcome=IGNORED, error=redact(exc.message)[:MAX_ERROR])
        except Exception as exc:
            return self._failure(done, describe(exc))
        effects = ctx.effects
        wants_changes = bool(new_events or effects.deliveries or effects.status or effects.data_updates
                             or effects.disconnected_reason)
        if wants_changes and (tenant is None or connection is None):
            owner = f"account {event.account!r}" if event.account else "an event without an account"
            return attrs.evolve(done, outcome=IGNORED, error=(
                f"No {event.integration} connection owns {owner}, so the handler's results were not applied."))
        return attrs.evolve(done, new_events=new_events, effects=effects)

    def _failure(self, handled: Handled, error: str) -> Handled:
        outcome = FAILED if handled.event.attempts >= self.pipeline.config.max_attempts else RETRY
        return attrs.evolve(handled, outcome=outcome, error=error, new_events=[], effects=None)

    # ------------------------------------------------------------------ 3. apply
    def apply(self, handled: Sequence[Handled]) -> BatchReport:
        engine = self.host.store.engine
        now = self.host.clock.now()
        try:
            with engine.begin() as c:
                ours = still_ours(c, engine, inbound_events, [h.event.id for h in handled], worker_id=self.worker_id)
                mine = [h for h in handled if h.event.id in ours]
                self._apply_all(c, [h for h in mine if h.outcome == PROCESSED])
                self._record(c, mine, now)
        except Exception as exc:
            if len(handled) == 1:
                mine = self._apply_alone(handled[0], now, exc)
            else:
                log.warning("applying a batch of %d events failed (%s); applying each on its own",
                            len(handled), describe(exc))
                mine = [h for one in handled for h in self._apply_alone(one, now, None)]
        report = BatchReport(lost=len(handled) - len(mine))
        for h in mine:
            setattr(report, _REPORT_FIELD[h.outcome], getattr(report, _REPORT_FIELD[h.outcome]) + 1)
        self._count(report)
        if report.processed:
            self.pipeline.notify_new_deliveries()
            emitted = {e.type for h in mine if h.outcome == PROCESSED for e in h.new_events}
            if self.host.events.observers_of(emitted):  # only then were observations queued
                self.pipeline.notify_new_observations()
        return report

    def _apply_alone(self, handled: Handled, now: datetime, earlier: Exception | None) -> list[Handled]:
        """Apply one event in its own transaction; if its results cannot be written, retry it later."""
        engine = self.host.store.engine
        if earlier is None:
            try:
                with engine.begin() as c:
                    if not still_ours(c, engine, inbound_events, [handled.event.id], worker_id=self.worker_id):
                        return []
                    if handled.outcome == PROCESSED:
                        self._apply_all(c, [handled])
                    self._record(c, [handled], now)
                    return [handled]
            except Exception as exc:
                earlier = exc
        failed = self._failure(handled, f"Its results could not be written: {describe(earlier)}")
        log.error("inbound event %s: results could not be written: %s", handled.event.id, describe(earlier))
        with engine.begin() as c:
            if not still_ours(c, engine, inbound_events, [handled.event.id], worker_id=self.worker_id):
                return []
            self._record(c, [failed], now)
        return [failed]

    def _apply_all(self, c: DB, handled: Sequence[Handled]) -> None:
        """Effects event by event (rare), then every domain event of the batch in a few statements."""
        emits: dict[str, list[tuple[str, Sequence[NewDomainEvent], str | None]]] = {}
        for h in handled:
            integration = h.event.integration
            self._apply_effects(c, h)
            if h.new_events and h.tenant is not None:
                emits.setdefault(integration, []).append((h.tenant.id, h.new_events, h.event.id))
        for integration, batch in emits.items():
            self.host.events.emit_many(c, batch, source=integration)

    def _apply_effects(self, c: DB, h: Handled) -> None:
        """Apply to the connection as it is now (an earlier event in the batch may have changed it)."""
        effects = h.effects
        if effects is None or h.tenant is None:
            return
        connection: Connection | None = None
        changes = effects.status is not None or effects.data_updates or effects.disconnected_reason
        if changes and h.connection is not None:
            connection = self.host.connections.find(h.tenant.id, h.event.integration, conn=c)
            if connection is None or connection.external_id != h.connection.external_id:
                log.warning("inbound event %s: the connection no longer owns account %r; its changes were dropped",
                            h.event.id, h.event.account)
                connection = None
        apply_effects(self.host, c, tenant_id=h.tenant.id, integration=h.event.integration, connection=connection,
                      effects=effects, actor=h.event.integration)

    def _record(self, c: DB, handled: Sequence[Handled], now: datetime) -> None:
        """Write each event's final or next state and its attempt (its handler ran), in one executemany."""
        if not handled:
            return
        stmt = inbound_events.update().where(inbound_events.c.id == bindparam("b_id")).values(
            status=bindparam("b_status"), tenant_id=bindparam("b_tenant"), last_error=bindparam("b_error"),
            processed_at=bindparam("b_processed_at"), next_attempt_at=bindparam("b_next"),
            attempts=bindparam("b_attempts"), claimed_by=None, claimed_until=None)
        params = []
        for h in handled:
            retry_at = now + self.pipeline.config.retry_delay(h.event.attempts) if h.outcome == RETRY else now
            params.append({"b_id": h.event.id, "b_status": "pending" if h.outcome == RETRY else h.outcome,
                           "b_tenant": h.tenant.id if h.tenant else None, "b_error": h.error,
                           "b_processed_at": now if h.outcome in (PROCESSED, IGNORED) else None,
                           "b_next": retry_at, "b_attempts": h.event.attempts})
            if h.outcome in (RETRY, FAILED):
                log.warning("inbound event %s (%s %s) attempt %d failed%s: %s", h.event.id, h.event.integration,
                            h.event.type, h.event.attempts, "; giving up" if h.outcome == FAILED else
                            f"; retrying at {retry_at.isoformat()}", h.error)
        c.execute(stmt, params)

    def _count(self, report: BatchReport) -> None:
        for name in ("processed", "ignored", "retried", "failed", "lost"):
            self.pipeline.counters.incr("processing", name, by=getattr(report, name))


_REPORT_FIELD = {PROCESSED: "processed", IGNORED: "ignored", RETRY: "retried", FAILED: "failed"}


def _domain_events(result: Any) -> list[NewDomainEvent]:
    if result is None:
        return []
    items = [result] if isinstance(result, NewDomainEvent) else list(result)
    for item in items:
        if not isinstance(item, NewDomainEvent):
            raise TypeError(f"handle_event returned a {type(item).__name__}; return core.NewDomainEvent items "
                            "(or None)")
    return items
