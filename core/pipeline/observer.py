"""Observing: stored domain events → each observing plugin's ``on_domain_event``, after the commit.

Emitting a domain event writes, in the same transaction, one ``observations`` row per plugin that
observes its type and has an active connection of the event's tenant; no plugin code runs there.
Workers then claim, run and apply them like inbound events (``core.pipeline.stage``). Running an
observation reads the event, its tenant and the connection as they are now and calls the plugin's
``on_domain_event`` on this stage's own thread pool; a connection that is no longer active is
``skipped`` without calling it. Applying writes what the plugin asked for through ``ctx`` (``ctx.deliver``
rows into the outbox, status or data changes) and records the outcome: ``observed``; or, when the plugin
raised (anything, ``IntellectraError`` included), the error, recorded against the plugin too (this
process's ``recent_errors``; every process reads the stored ones: ``core.health``), and a retry with
backoff, ``failed`` after the last attempt (``observations list``, ``observations replay``).

A slow or failing observer therefore holds no lock and delays no request, no emit and no other
plugin's work; its own pool keeps it from taking the threads inbound events are handled on.
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
from core.domain import plugin_outbox_row
from core.effects import apply_effects
from core.models import Connection, DomainEvent, Tenant
from core.pipeline.stage import MAX_ERROR, ClaimedStage, StageReport, describe
from core.plugins import HOST_APP
from core.redact import redact
from core.store.tables import connections, deliveries, domain_events, observations, tenants
from core.telemetry import traced_observation
from core.tenants import tenant_from_row

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB

log = logging.getLogger("intellectra.pipeline.observer")

OBSERVED, SKIPPED, RETRY, FAILED = "observed", "skipped", "retry", "failed"


@attrs.frozen(kw_only=True)
class Claimed:
    """A claimed observation, with this attempt's number."""

    id: str
    domain_event_id: str
    tenant_id: str
    integration: str
    event_type: str
    attempts: int


@attrs.define(kw_only=True)
class Outcome:
    """One observation after its turn: what to apply and which status it ends in."""

    observation: Claimed
    outcome: str
    ran: bool = False
    """Whether ``on_domain_event`` was called (only then does it count as an attempt)."""
    event: DomainEvent | None = None
    connection: Connection | None = None
    effects: Effects | None = None
    error: str | None = None


@attrs.define(kw_only=True)
class ObserveReport(StageReport):
    observed: int = 0
    skipped: int = 0


class Observer(ClaimedStage[Claimed, Outcome, ObserveReport]):
    table = observations
    section = "observing"
    noun = "observation"
    doing = ("Observing", "observing", "observations")
    threads_named = "intellectra-observer"
    report_type = ObserveReport
    log = log

    # ------------------------------------------------------------------ 1. claim
    def claim(self, limit: int | None = None) -> list[Claimed]:
        names = [r.name for r in self.host.plugins.loaded() if self.host.plugins.implements(r.name, "on_domain_event")]
        if self.host.plugins.host_app_observes:
            names.append(HOST_APP)
        rows = self.claim_rows(limit, names, finished_at=self.host.clock.now())
        return [Claimed(id=r.id, domain_event_id=r.domain_event_id, tenant_id=r.tenant_id, integration=r.integration,
                        event_type=r.event_type, attempts=r.attempts + 1) for r in rows]

    def run(self, items: Sequence[Claimed]) -> list[Outcome]:
        return self.observe(items)

    def result_id(self, result: Outcome) -> str:
        return result.observation.id

    def outcome(self, result: Outcome) -> str:
        return _REPORT_FIELD[result.outcome]

    # ------------------------------------------------------------------ 2. observe
    def observe(self, claimed: Sequence[Claimed]) -> list[Outcome]:
        events, found_tenants, found_connections = self._load(claimed)

        def one(observation: Claimed) -> Outcome:
            found = found_connections.get((observation.tenant_id, observation.integration))
            return traced_observation(observation, lambda: self._observe_one(
                observation, events.get(observation.domain_event_id), found_tenants.get(observation.tenant_id),
                *(found or (None, None))))

        return self.in_threads(one, claimed)

    def _load(self, claimed: Sequence[Claimed]) -> tuple[
            dict[str, DomainEvent], dict[str, Tenant], dict[tuple[str, str], tuple[Connection, dict[str, str]]]]:
        """The batch's events, tenants and connections (with their secrets, decrypted once per connection,
        not once per observation) as they are now, in three queries."""
        event_ids = sorted({o.domain_event_id for o in claimed})
        tenant_ids = sorted({o.tenant_id for o in claimed})
        pairs = sorted({(o.tenant_id, o.integration) for o in claimed})
        with self.host.store.read() as c:
            events = {r.id: DomainEvent(id=r.id, type=r.type, tenant_id=r.tenant_id, version=r.version, data=r.data,
                                        occurred_at=r.occurred_at, source=r.source)
                      for r in c.execute(select(domain_events).where(domain_events.c.id.in_(event_ids)))}
            found_tenants = {r.id: tenant_from_row(r)
                             for r in c.execute(select(tenants).where(tenants.c.id.in_(tenant_ids)))}
            rows = list(c.execute(select(connections).where(
                tuple_(connections.c.tenant_id, connections.c.integration).in_(pairs))))  # type: ignore[arg-type]
        found_connections = {(r.tenant_id, r.integration): (connection_from_row(r), self._secrets(r)) for r in rows}
        return events, found_tenants, found_connections

    def _secrets(self, row: Any) -> dict[str, str]:
        return {k: str(v) for k, v in self.host.secrets.decrypt_json(row.secrets).items()} if row.secrets else {}

    def _observe_one(self, observation: Claimed, event: DomainEvent | None, tenant: Tenant | None,
                     connection: Connection | None, secrets: dict[str, str] | None) -> Outcome:
        done = Outcome(observation=observation, outcome=OBSERVED, event=event, connection=connection)
        if event is None or tenant is None:
            return attrs.evolve(done, outcome=SKIPPED, error="The domain event (or its tenant) no longer exists.")
        if observation.integration == HOST_APP:
            return self._tell_host_app(done, event, tenant)
        if connection is None or not connection.is_active:
            state = connection.state.value if connection is not None else "gone"
            return attrs.evolve(done, outcome=SKIPPED, error=(
                f"The tenant's {observation.integration} connection is {state} now, so it was not told."))
        record = self.host.plugins.records.get(observation.integration)
        if record is None or record.info is None or event.type not in record.info.observes:
            return attrs.evolve(done, outcome=SKIPPED, error=(
                f"{observation.integration} no longer observes {event.type}."))
        try:
            ctx = self.host.context(observation.integration, tenant=tenant, connection=connection,
                                    secrets=dict(secrets or {}))
            # Nobody waits for an observer's answer: whatever it raises is recorded against it.
            self.host.plugins.call(observation.integration, "on_domain_event", record_refusals=True, ctx=ctx,
                                   event=event)
        except Exception as exc:
            return self.failure(attrs.evolve(done, ran=True), describe(exc))
        return attrs.evolve(done, ran=True, effects=ctx.effects)

    def _tell_host_app(self, done: Outcome, event: DomainEvent, tenant: Tenant) -> Outcome:
        """The host app's ``observe_domain_event``: every tenant's events of the types it observes, no
        connection needed; it writes what it does itself, in its own transactions (no effects to apply)."""
        if event.type not in self.host.plugins.host_app_observes:
            return attrs.evolve(done, outcome=SKIPPED, error=f"The host app no longer observes {event.type}.")
        try:
            self.host.plugins.call_host_app("observe_domain_event", tenant=tenant, event=event)
        except Exception as exc:
            return self.failure(attrs.evolve(done, ran=True), describe(exc))
        return attrs.evolve(done, ran=True)

    def failure(self, outcome: Outcome, error: str) -> Outcome:
        final = outcome.observation.attempts >= self.pipeline.config.max_attempts
        return attrs.evolve(outcome, outcome=FAILED if final else RETRY, error=error, effects=None)

    # ------------------------------------------------------------------ 3. apply
    def applied(self, report: ObserveReport, mine: Sequence[Outcome]) -> None:
        if report.observed:
            self.pipeline.notify_new_deliveries()

    def write(self, c: DB, mine: Sequence[Outcome], now: datetime) -> None:
        outbox: list[dict[str, Any]] = []
        for o in mine:
            if o.outcome != OBSERVED or o.effects is None or o.event is None:
                continue
            effects, integration = o.effects, o.observation.integration
            if effects.status is not None or effects.data_updates or effects.disconnected_reason:
                apply_effects(self.host, c, tenant_id=o.observation.tenant_id, integration=integration,
                              connection=o.connection, effects=attrs.evolve(effects, deliveries=[]), actor=integration)
            outbox.extend(plugin_outbox_row(self.host, out, tenant_id=o.observation.tenant_id, integration=integration,
                                            domain_event_id=o.event.id) for out in effects.deliveries)
        if outbox:  # the whole batch's deliveries in one statement, not one per observation
            c.execute(deliveries.insert(), outbox)
        self._record(c, mine, now)

    def _record(self, c: DB, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Each observation's final or next state, in one executemany."""
        if not outcomes:
            return
        stmt = observations.update().where(observations.c.id == bindparam("b_id")).values(
            status=bindparam("b_status"), attempts=bindparam("b_attempts"), last_error=bindparam("b_error"),
            next_attempt_at=bindparam("b_next"), finished_at=bindparam("b_finished"), claimed_by=None,
            claimed_until=None)
        params: list[dict[str, Any]] = []
        for o in outcomes:
            attempt = o.observation.attempts
            retry_at = now + self.pipeline.config.retry_delay(attempt) if o.outcome == RETRY else now
            params.append({"b_id": o.observation.id, "b_status": "pending" if o.outcome == RETRY else o.outcome,
                           "b_attempts": attempt if o.ran else attempt - 1,
                           "b_error": redact(o.error)[:MAX_ERROR] if o.error else None, "b_next": retry_at,
                           "b_finished": None if o.outcome == RETRY else now})
            if o.outcome in (RETRY, FAILED):
                log.warning("observation %s (%s of %s) attempt %d failed%s: %s", o.observation.id,
                            o.observation.integration, o.observation.event_type, attempt,
                            "; giving up" if o.outcome == FAILED else f"; retrying at {retry_at.isoformat()}",
                            o.error)
        c.execute(stmt, params)


_REPORT_FIELD = {OBSERVED: "observed", SKIPPED: "skipped", RETRY: "retried", FAILED: "failed"}
