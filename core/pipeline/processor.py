"""Processing: claimed inbound events → the integration's ``handle_event`` → applied exactly once.

Claimed, run and applied in three steps with no transaction open while plugin code runs
(``core.pipeline.stage``). Here, running an event routes it by ``event.account`` to the connection that
owns the account and calls the addressed ``handle_event``, keeping its domain events and effects;
applying writes the effects and the domain events with their outbox rows, and records every outcome
with one more attempt (attempts count handler runs, claims count takers: a dead worker used no attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import bindparam, select, tuple_

from core.connections import connection_from_row
from core.context import Effects
from core.effects import apply_effects
from core.errors import IgnoreEvent
from core.events import NewDomainEvent
from core.models import Connection, StoredEvent, Tenant
from core.pipeline.rows import stored_event_from_row
from core.pipeline.stage import MAX_ERROR, ClaimedStage, StageReport, describe
from core.redact import redact
from core.store.tables import connections, inbound_events, tenants
from core.telemetry import traced_handling
from core.tenants import tenant_from_row

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB

log = logging.getLogger("intellectra.pipeline.processor")

PROCESSED, IGNORED, RETRY, FAILED = "processed", "ignored", "retry", "failed"


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
class BatchReport(StageReport):
    processed: int = 0
    ignored: int = 0


class Processor(ClaimedStage[StoredEvent, Handled, BatchReport]):
    table = inbound_events
    section = "processing"
    noun = "inbound event"
    doing = ("Processing", "handling", "events")
    threads_named = "intellectra-handler"
    report_type = BatchReport
    log = log

    # ------------------------------------------------------------------ 1. claim
    def claim(self, limit: int | None = None) -> list[StoredEvent]:
        rows = self.claim_rows(limit, [r.name for r in self.host.plugins.loaded()])
        return [attrs.evolve(stored_event_from_row(r), attempts=r.attempts + 1) for r in rows]

    def run(self, items: Sequence[StoredEvent]) -> list[Handled]:
        return self.handle(items)

    def result_id(self, result: Handled) -> str:
        return result.event.id

    def outcome(self, result: Handled) -> str:
        return _REPORT_FIELD[result.outcome]

    # ------------------------------------------------------------------ 2. handle
    def handle(self, events: Sequence[StoredEvent]) -> list[Handled]:
        routes = self._routes(events)

        def one(event: StoredEvent) -> Handled:
            return traced_handling(event, lambda: self._handle_one(
                event, *routes.get((event.integration, event.account), (None, None))))

        return self.in_threads(one, events)

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
            return self.failure(done, describe(exc))
        effects = ctx.effects
        wants_changes = bool(new_events or effects.deliveries or effects.status or effects.data_updates
                             or effects.disconnected_reason)
        if wants_changes and (tenant is None or connection is None):
            owner = f"account {event.account!r}" if event.account else "an event without an account"
            return attrs.evolve(done, outcome=IGNORED, error=(
                f"No {event.integration} connection owns {owner}, so the handler's results were not applied."))
        return attrs.evolve(done, new_events=new_events, effects=effects)

    def failure(self, handled: Handled, error: str) -> Handled:
        outcome = FAILED if handled.event.attempts >= self.pipeline.config.max_attempts else RETRY
        return attrs.evolve(handled, outcome=outcome, error=error, new_events=[], effects=None)

    # ------------------------------------------------------------------ 3. apply
    def write(self, c: DB, mine: Sequence[Handled], now: datetime) -> None:
        self._apply_all(c, [h for h in mine if h.outcome == PROCESSED])
        self._record(c, mine, now)

    def applied(self, report: BatchReport, mine: Sequence[Handled]) -> None:
        if report.processed:
            self.pipeline.notify_new_deliveries()
            emitted = {e.type for h in mine if h.outcome == PROCESSED for e in h.new_events}
            if self.host.events.observers_of(emitted):  # only then were observations queued
                self.pipeline.notify_new_observations()

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
