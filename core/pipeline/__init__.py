"""The event pipeline: at-least-once in, at-least-once out, exactly-once effect.

    host.pipeline.intake      webhooks in: verify, store once, commit, then 2xx (group commit)
    host.pipeline.processor   stored events → handle_event → domain events + outbox, in one transaction
    host.pipeline.observer    observations → observing plugins' on_domain_event, after the commit (observer.py)
    host.pipeline.deliverer   outbox rows → signed POSTs, retried on a schedule until delivered or dead
    host.pipeline.run_workers(stop) / run_once()    the worker loops (``serve``, ``worker``)
    host.pipeline.list_events / replay_event / list_deliveries / retry_delivery   the operator's API
    host.pipeline.list_observations / replay_observation(s)                       ... for observers
    host.pipeline.retention   what the workers prune on a schedule (``INTELLECTRA_RETENTION``; retention.py)
    host.pipeline.metrics     counters shown on ``/healthz``
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from core.models import Delivery, Observation, StoredEvent
from core.pipeline.config import PipelineConfig
from core.pipeline.delivery import Deliverer, DeliveryReport
from core.pipeline.intake import Intake, IntakeResult
from core.pipeline.metrics import Metrics
from core.pipeline.observer import Observer, ObserveReport
from core.pipeline.operations import AlreadyDone, DeliveryInFlight, Operations
from core.pipeline.processor import BatchReport, Processor
from core.pipeline.retention import RetentionPolicy, run_on_schedule
from core.pipeline.workers import Wakeup, run_forever

if TYPE_CHECKING:
    from core.pipeline.ports import PipelineHost

log = logging.getLogger("intellectra.pipeline")

__all__ = ["AlreadyDone", "BatchReport", "DeliveryInFlight", "DeliveryReport", "IntakeResult", "ObserveReport",
           "Pipeline", "PipelineConfig", "RunReport"]


@attrs.define(kw_only=True)
class RunReport:
    """What ``run_once`` did."""

    events: BatchReport
    deliveries: DeliveryReport
    observations: ObserveReport = attrs.field(factory=ObserveReport)


class Pipeline:
    def __init__(self, host: PipelineHost, *, config: PipelineConfig | None = None) -> None:
        self.host = host
        self.config = config or PipelineConfig.from_env()
        self._metrics = Metrics()
        self.intake = Intake(host, self._metrics, max_group=self.config.intake_max_group)
        self.processor = Processor(self)
        self.observer = Observer(self)
        self.deliverer = Deliverer(self)
        self.operations = Operations(host)
        self.retention = RetentionPolicy.from_env()
        self._wakeups: dict[str, list[Wakeup]] = {"events": [], "observations": [], "deliveries": []}
        self._wakeups_lock = threading.Lock()

    def configure(self, **changes: Any) -> PipelineConfig:
        """Change settings (tests: ``max_attempts=3``; tuning: ``batch_size=500``)."""
        self.config = attrs.evolve(self.config, **changes)
        return self.config

    @property
    def metrics(self) -> dict[str, Any]:
        """Counters: intake accepted / duplicates / rejected (per integration and code), outcomes."""
        return self._metrics.snapshot()

    @property
    def counters(self) -> Metrics:
        return self._metrics

    # ------------------------------------------------------------------ running
    async def run_once(self) -> RunReport:
        """Process every due event, let observers observe every due domain event, then send every due
        delivery (tests, ``worker --once``)."""
        events = await asyncio.to_thread(self.processor.drain)
        observed = await asyncio.to_thread(self.observer.drain)
        sent = await self.deliverer.drain()
        return RunReport(events=events, deliveries=sent, observations=observed)

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Process, observe and deliver until ``stop`` is set; idle loops sleep briefly or until woken."""
        events_wake, observations_wake, deliveries_wake = Wakeup(), Wakeup(), Wakeup()
        with self._wakeups_lock:
            self._wakeups["events"].append(events_wake)
            self._wakeups["observations"].append(observations_wake)
            self._wakeups["deliveries"].append(deliveries_wake)
        try:
            async with self.deliverer.client() as client:
                await asyncio.gather(
                    run_forever("processing", self._process_step, stop, events_wake, self.config),
                    run_forever("observing", self._observe_step, stop, observations_wake, self.config),
                    run_forever("delivery", lambda: self._deliver_step(client, stop), stop, deliveries_wake,
                                self.config),
                    run_on_schedule(self.host, self.retention, stop),
                )
        finally:
            with self._wakeups_lock:
                self._wakeups["events"].remove(events_wake)
                self._wakeups["observations"].remove(observations_wake)
                self._wakeups["deliveries"].remove(deliveries_wake)

    async def _process_step(self) -> bool:
        report = await asyncio.to_thread(self.processor.run_batch)
        return report.claimed > 0

    async def _observe_step(self) -> bool:
        report = await asyncio.to_thread(self.observer.run_batch)
        return report.claimed > 0

    async def _deliver_step(self, client: Any, stop: asyncio.Event) -> bool:
        report = await self.deliverer.drain(client, stop=stop)  # batches overlap while there is work
        return report.claimed > 0

    def notify_new_events(self) -> None:
        """Wake idle processing loops in this process (new or replayed events)."""
        self._wake("events")

    def notify_new_observations(self) -> None:
        """Wake idle observing loops in this process (new or replayed observations)."""
        self._wake("observations")

    def notify_new_deliveries(self) -> None:
        """Wake idle delivery loops in this process (new or re-queued deliveries)."""
        self._wake("deliveries")

    def _wake(self, which: str) -> None:
        with self._wakeups_lock:
            wakes = list(self._wakeups[which])
        for wake in wakes:
            wake.set()

    def close(self) -> None:
        """Finish queued intake writes; stop the intake writer, the handler and the observer threads."""
        self.intake.close()
        self.processor.close()
        self.observer.close()

    # ------------------------------------------------------------------ operator API
    def list_events(self, status: str | None = None, integration: str | None = None, tenant_id: str | None = None,
                    limit: int = 50) -> list[StoredEvent]:
        return self.operations.list_events(status=status, integration=integration, tenant_id=tenant_id,
                                           limit=limit)

    def get_event(self, event_id: str) -> StoredEvent:
        return self.operations.get_event(event_id)

    def replay_event(self, event_id: str, *, force: bool = False) -> StoredEvent:
        return self.operations.replay_event(event_id, force=force)

    def replay_events(self, *, status: str = "failed", integration: str | None = None,
                      progress: Callable[[int], None] | None = None) -> int:
        return self.operations.replay_events(status=status, integration=integration, progress=progress)

    def list_deliveries(self, status: str | None = None, tenant_id: str | None = None,
                        limit: int = 50, *, integration: str | None = None) -> list[Delivery]:
        return self.operations.list_deliveries(status=status, tenant_id=tenant_id, integration=integration,
                                               limit=limit)

    def get_delivery(self, delivery_id: str, *, tenant_id: str | None = None) -> Delivery:
        return self.operations.get_delivery(delivery_id, tenant_id=tenant_id)

    def retry_delivery(self, delivery_id: str, tenant_id: str | None = None) -> Delivery:
        return self.operations.retry_delivery(delivery_id, tenant_id=tenant_id)

    def list_observations(self, status: str | None = None, integration: str | None = None,
                          tenant_id: str | None = None, limit: int = 50) -> list[Observation]:
        return self.operations.list_observations(status=status, integration=integration, tenant_id=tenant_id,
                                                 limit=limit)

    def get_observation(self, observation_id: str) -> Observation:
        return self.operations.get_observation(observation_id)

    def replay_observation(self, observation_id: str, *, force: bool = False) -> Observation:
        return self.operations.replay_observation(observation_id, force=force)

    def replay_observations(self, *, status: str = "failed", integration: str | None = None,
                            progress: Callable[[int], None] | None = None) -> int:
        return self.operations.replay_observations(status=status, integration=integration, progress=progress)
