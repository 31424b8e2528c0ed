"""Observing: stored domain events → each observing plugin's ``on_domain_event``, after the commit.

Emitting a domain event writes, in the same transaction, one ``observations`` row per plugin that
observes its type and has an active connection of the event's tenant; no plugin code runs there.
Workers then take the rows in three steps, like inbound events (``core.pipeline.processor``):

1. **claim** (one short transaction): due observations of loaded plugins get this worker's lease and
   one more claim counted; one whose claims kept ending without a result (its workers died) is failed;
2. **observe** (no transaction open, on this stage's own thread pool, claims renewed meanwhile):
   read the event, its tenant and the connection as they are now, and call the plugin's
   ``on_domain_event``. A connection that is no longer active is ``skipped`` without calling it;
3. **apply** (one short transaction): re-check each claim is still ours, write what the plugin asked
   for through ``ctx`` (``ctx.deliver`` rows into the outbox, status or data changes), and record the
   outcome: ``observed``; or, when the plugin raised (anything, ``IntellectraError`` included), the
   error, recorded against the plugin too (``plugins list``, ``/healthz``), and a retry with backoff,
   ``failed`` after the last attempt (``observations list``, ``observations replay``).

A slow or failing observer therefore holds no lock and delays no request, no emit and no other
plugin's work; its own pool keeps it from taking the threads inbound events are handled on.
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
from core.domain import plugin_outbox_row
from core.effects import apply_effects
from core.models import Connection, DomainEvent, Tenant
from core.pipeline.claims import claim_due, new_worker_id, still_ours
from core.pipeline.leases import LeaseKeeper
from core.pipeline.processor import MAX_ERROR, describe
from core.plugins import HOST_APP
from core.redact import redact
from core.store.tables import connections, deliveries, domain_events, observations, tenants
from core.telemetry import traced_observation
from core.tenants import tenant_from_row

if TYPE_CHECKING:
    from sqlalchemy import Connection as DB

    from core.pipeline import Pipeline

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
class ObserveReport:
    """What a batch (or a drain of several) did; ``claimed`` is 0 when nothing was due."""

    claimed: int = 0
    observed: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    """Claims that ran out and went to another worker; their results were dropped."""

    def add(self, other: ObserveReport) -> None:
        for field in attrs.fields(ObserveReport):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


class Observer:
    def __init__(self, pipeline: Pipeline, *, worker_id: str | None = None) -> None:
        self.pipeline = pipeline
        self.host = pipeline.host
        self.worker_id = worker_id or new_worker_id()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    # ------------------------------------------------------------------ driving
    def run_batch(self, limit: int | None = None) -> ObserveReport:
        """Claim, observe and apply one batch; ``claimed == 0`` means nothing was due."""
        claimed = self.claim(limit)
        if not claimed:
            return ObserveReport()
        config = self.pipeline.config
        with LeaseKeeper(self.host.store.engine, observations, [o.id for o in claimed], worker_id=self.worker_id,
                         clock=self.host.clock, lease=timedelta(seconds=config.lease_seconds),
                         max_hold=timedelta(seconds=config.max_hold_seconds)):
            outcomes = self.observe(claimed)
        report = self.apply(outcomes)
        report.claimed = len(claimed)
        return report

    def drain(self) -> ObserveReport:
        """Observe batches until nothing is due (``run_once``, tests, ``worker --once``)."""
        total = ObserveReport()
        while True:
            report = self.run_batch()
            if report.claimed == 0:
                return total
            total.add(report)

    def close(self) -> None:
        """Stop the observer threads (``Pipeline.close``)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ------------------------------------------------------------------ 1. claim
    def claim(self, limit: int | None = None) -> list[Claimed]:
        config = self.pipeline.config
        names = [r.name for r in self.host.plugins.loaded() if self.host.plugins.implements(r.name, "on_domain_event")]
        if self.host.plugins.host_app_observes:
            names.append(HOST_APP)
        if not names:  # nothing here observes: no need to ask the database (an idle loop asks often)
            return []
        engine = self.host.store.engine
        with engine.begin() as c:
            rows = claim_due(c, engine, observations, worker_id=self.worker_id, now=self.host.clock.now(),
                             lease=timedelta(seconds=config.lease_seconds), limit=limit or config.batch_size,
                             where=[observations.c.integration.in_(names)],
                             also_set={"claims": observations.c.claims + 1})
            crashed = [r for r in rows if r.claims - r.attempts >= config.max_attempts]
            if crashed:
                c.execute(observations.update().where(observations.c.id.in_([r.id for r in crashed])).values(
                    status=FAILED, claimed_by=None, claimed_until=None, finished_at=self.host.clock.now(),
                    last_error=f"Observing was started {config.max_attempts} times and never finished (the worker "
                               "stopped while the plugin observed it, e.g. crashed or was killed). Fix the cause, "
                               "then replay it with `intellectra-integrations observations replay`."))
                self.pipeline.counters.incr("observing", "failed", by=len(crashed))
                log.error("%d observation(s) failed: their workers died %d times while observing them",
                          len(crashed), config.max_attempts)
        crashed_ids = {r.id for r in crashed}
        return [Claimed(id=r.id, domain_event_id=r.domain_event_id, tenant_id=r.tenant_id, integration=r.integration,
                        event_type=r.event_type, attempts=r.attempts + 1) for r in rows if r.id not in crashed_ids]

    # ------------------------------------------------------------------ 2. observe
    def observe(self, claimed: Sequence[Claimed]) -> list[Outcome]:
        events, found_tenants, found_connections = self._load(claimed)

        def one(observation: Claimed) -> Outcome:
            found = found_connections.get((observation.tenant_id, observation.integration))
            return traced_observation(observation, lambda: self._observe_one(
                observation, events.get(observation.domain_event_id), found_tenants.get(observation.tenant_id),
                *(found or (None, None))))

        threads = self.pipeline.config.handler_concurrency
        if threads == 1 or len(claimed) == 1:
            return [one(o) for o in claimed]
        if self._pool is None or self._pool_size != threads:
            self.close()
            self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="intellectra-observer")
            self._pool_size = threads
        return list(self._pool.map(one, claimed))

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
            return self._failure(attrs.evolve(done, ran=True), describe(exc))
        return attrs.evolve(done, ran=True, effects=ctx.effects)

    def _tell_host_app(self, done: Outcome, event: DomainEvent, tenant: Tenant) -> Outcome:
        """The host app's ``observe_domain_event``: every tenant's events of the types it observes, no
        connection needed; it writes what it does itself, in its own transactions (no effects to apply)."""
        if event.type not in self.host.plugins.host_app_observes:
            return attrs.evolve(done, outcome=SKIPPED, error=f"The host app no longer observes {event.type}.")
        try:
            self.host.plugins.call_host_app("observe_domain_event", tenant=tenant, event=event)
        except Exception as exc:
            return self._failure(attrs.evolve(done, ran=True), describe(exc))
        return attrs.evolve(done, ran=True)

    def _failure(self, outcome: Outcome, error: str) -> Outcome:
        final = outcome.observation.attempts >= self.pipeline.config.max_attempts
        return attrs.evolve(outcome, outcome=FAILED if final else RETRY, error=error, effects=None)

    # ------------------------------------------------------------------ 3. apply
    def apply(self, outcomes: Sequence[Outcome]) -> ObserveReport:
        engine = self.host.store.engine
        now = self.host.clock.now()
        try:
            with engine.begin() as c:
                mine = self._apply_in(c, outcomes, now)
        except Exception as exc:
            if len(outcomes) > 1:
                log.warning("applying a batch of %d observations failed (%s); applying each on its own",
                            len(outcomes), describe(exc))
            mine = [m for one in outcomes for m in self._apply_alone(one, now, exc if len(outcomes) == 1 else None)]
        report = ObserveReport(lost=len(outcomes) - len(mine))
        for m in mine:
            name = _REPORT_FIELD[m.outcome]
            setattr(report, name, getattr(report, name) + 1)
        for name in ("observed", "skipped", "retried", "failed", "lost"):
            self.pipeline.counters.incr("observing", name, by=getattr(report, name))
        if report.observed:
            self.pipeline.notify_new_deliveries()
        return report

    def _apply_in(self, c: DB, outcomes: Sequence[Outcome], now: datetime) -> list[Outcome]:
        engine = self.host.store.engine
        ours = still_ours(c, engine, observations, [o.observation.id for o in outcomes], worker_id=self.worker_id)
        mine = [o for o in outcomes if o.observation.id in ours]
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
        return mine

    def _apply_alone(self, outcome: Outcome, now: datetime, earlier: Exception | None) -> list[Outcome]:
        """Apply one observation in its own transaction; if its results cannot be written, retry it later."""
        engine = self.host.store.engine
        if earlier is None:
            try:
                with engine.begin() as c:
                    return self._apply_in(c, [outcome], now)
            except Exception as exc:
                earlier = exc
        failed = self._failure(outcome, f"Its results could not be written: {describe(earlier)}")
        log.error("observation %s: results could not be written: %s", outcome.observation.id, describe(earlier))
        with engine.begin() as c:
            return self._apply_in(c, [failed], now)

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
