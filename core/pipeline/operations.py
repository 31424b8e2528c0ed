"""The operator's view: list inbound events, observations and deliveries; replay events and observations,
re-queue deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from core.errors import IntellectraError, NotFound, ValidationFailed
from core.models import Delivery, DeliveryStatus, InboundStatus, Observation, ObservationStatus, StoredEvent
from core.pipeline.rows import delivery_from_row, observation_from_row, stored_event_from_row
from core.store.tables import deliveries, inbound_events, observations

if TYPE_CHECKING:
    from core.pipeline.ports import PipelineHost

REPLAY_PAGE = 500


class AlreadyDone(IntellectraError):
    """Replaying or retrying this would repeat an effect that already happened."""

    code = "already_done"
    http_status = 409


class DeliveryInFlight(IntellectraError):
    """A worker is sending the delivery now: re-queueing it would send it a second time."""

    code = "delivery_in_flight"
    http_status = 409


def _status(value: str | None, enum: type[InboundStatus] | type[DeliveryStatus] | type[ObservationStatus],
            what: str) -> str | None:
    if value is None:
        return None
    allowed = [s.value for s in enum]
    if value not in allowed:
        raise ValidationFailed(f"Unknown {what} status {value!r}; use one of {', '.join(allowed)}.",
                               code="status_unknown")
    return value


class Operations:
    def __init__(self, host: PipelineHost) -> None:
        self.host = host

    # ------------------------------------------------------------------ inbound events
    def list_events(self, *, status: str | None = None, integration: str | None = None,
                    tenant_id: str | None = None, limit: int = 50) -> list[StoredEvent]:
        """Newest first."""
        stmt = select(inbound_events).order_by(inbound_events.c.received_at.desc(), inbound_events.c.id.desc())
        if (wanted := _status(status, InboundStatus, "event")) is not None:
            stmt = stmt.where(inbound_events.c.status == wanted)
        if integration is not None:
            stmt = stmt.where(inbound_events.c.integration == integration)
        if tenant_id is not None:
            stmt = stmt.where(inbound_events.c.tenant_id == tenant_id)
        with self.host.store.read() as c:
            return [stored_event_from_row(r) for r in c.execute(stmt.limit(max(1, limit)))]

    def get_event(self, event_id: str) -> StoredEvent:
        with self.host.store.read() as c:
            row = c.execute(select(inbound_events).where(inbound_events.c.id == event_id)).first()
        if row is None:
            raise NotFound(f"No inbound event {event_id!r}; list them with `intellectra-integrations events list`.",
                           code="event_not_found")
        return stored_event_from_row(row)

    def replay_event(self, event_id: str, *, force: bool = False) -> StoredEvent:
        """Queue a failed or ignored event for processing again, with a fresh set of attempts.

        A processed event is refused unless ``force``: replaying it runs its handler again, which
        emits its domain events (and their deliveries) a second time.
        """
        event = self.get_event(event_id)
        if event.status is InboundStatus.PENDING:
            return event
        if event.status is InboundStatus.PROCESSED and not force:
            raise AlreadyDone(
                f"Event {event_id} was already processed; replaying it would emit its domain events (and send their "
                "deliveries) again. If that is what you want, replay it with --force.", code="event_already_processed")
        now = self.host.clock.now()
        with self.host.store.begin() as c:
            c.execute(inbound_events.update().where(inbound_events.c.id == event_id,
                                                    inbound_events.c.status == event.status.value).values(
                status="pending", attempts=0, claims=0, next_attempt_at=now, claimed_by=None,
                claimed_until=None, last_error=None, processed_at=None))
        self.host.pipeline.notify_new_events()
        return self.get_event(event_id)

    def count_events(self, *, status: str, integration: str | None = None) -> int:
        stmt = select(func.count()).select_from(inbound_events).where(
            inbound_events.c.status == _status(status, InboundStatus, "event"))
        if integration is not None:
            stmt = stmt.where(inbound_events.c.integration == integration)
        with self.host.store.read() as c:
            return int(c.execute(stmt).scalar_one())

    def replay_events(self, *, status: str = "failed", integration: str | None = None,
                      progress: Callable[[int], None] | None = None) -> int:
        """Replay every failed (or ignored) event, a page per transaction; returns how many."""
        if _status(status, InboundStatus, "event") not in ("failed", "ignored"):
            raise ValidationFailed("Bulk replay takes --status failed or --status ignored; replay processed events "
                                   "one by one with --force.", code="status_not_replayable")
        total = 0
        while True:
            with self.host.store.begin() as c:
                stmt = select(inbound_events.c.id).where(inbound_events.c.status == status)
                if integration is not None:
                    stmt = stmt.where(inbound_events.c.integration == integration)
                ids = list(c.execute(stmt.limit(REPLAY_PAGE)).scalars())
                if not ids:
                    break
                c.execute(inbound_events.update().where(inbound_events.c.id.in_(ids),
                                                        inbound_events.c.status == status).values(
                    status="pending", attempts=0, claims=0, next_attempt_at=self.host.clock.now(),
                    claimed_by=None, claimed_until=None, last_error=None, processed_at=None))
            total += len(ids)
            if progress is not None:
                progress(len(ids))
        if total:
            self.host.pipeline.notify_new_events()
        return total

    # ------------------------------------------------------------------ observations
    def list_observations(self, *, status: str | None = None, integration: str | None = None,
                          tenant_id: str | None = None, limit: int = 50) -> list[Observation]:
        """Newest first."""
        stmt = select(observations).order_by(observations.c.created_at.desc(), observations.c.id.desc())
        if (wanted := _status(status, ObservationStatus, "observation")) is not None:
            stmt = stmt.where(observations.c.status == wanted)
        if integration is not None:
            stmt = stmt.where(observations.c.integration == integration)
        if tenant_id is not None:
            stmt = stmt.where(observations.c.tenant_id == tenant_id)
        with self.host.store.read() as c:
            return [observation_from_row(r) for r in c.execute(stmt.limit(max(1, limit)))]

    def get_observation(self, observation_id: str) -> Observation:
        with self.host.store.read() as c:
            row = c.execute(select(observations).where(observations.c.id == observation_id)).first()
        if row is None:
            raise NotFound(f"No observation {observation_id!r}; list them with `intellectra-integrations observations "
                           "list`.", code="observation_not_found")
        return observation_from_row(row)

    def replay_observation(self, observation_id: str, *, force: bool = False) -> Observation:
        """Queue a failed or skipped observation again, with a fresh set of attempts.

        An observed one is refused unless ``force``: the plugin would observe the event again (and
        send what it sends a second time).
        """
        observation = self.get_observation(observation_id)
        if observation.status is ObservationStatus.PENDING:
            return observation
        if observation.status is ObservationStatus.OBSERVED and not force:
            raise AlreadyDone(
                f"Observation {observation_id} was already observed; replaying it would have {observation.integration} "
                "observe the event again (and send what it sends a second time). If that is what you want, replay it "
                "with --force.", code="observation_already_observed")
        with self.host.store.begin() as c:
            c.execute(observations.update().where(observations.c.id == observation_id,
                                                  observations.c.status == observation.status.value)
                      .values(**self._fresh_observation()))
        self.host.pipeline.notify_new_observations()
        return self.get_observation(observation_id)

    def count_observations(self, *, status: str, integration: str | None = None) -> int:
        stmt = select(func.count()).select_from(observations).where(
            observations.c.status == _status(status, ObservationStatus, "observation"))
        if integration is not None:
            stmt = stmt.where(observations.c.integration == integration)
        with self.host.store.read() as c:
            return int(c.execute(stmt).scalar_one())

    def replay_observations(self, *, status: str = "failed", integration: str | None = None,
                            progress: Callable[[int], None] | None = None) -> int:
        """Replay every failed (or skipped) observation, a page per transaction; returns how many."""
        if _status(status, ObservationStatus, "observation") not in ("failed", "skipped"):
            raise ValidationFailed("Bulk replay takes --status failed or --status skipped; replay observed "
                                   "observations one by one with --force.", code="status_not_replayable")
        total = 0
        while True:
            with self.host.store.begin() as c:
                stmt = select(observations.c.id).where(observations.c.status == status)
                if integration is not None:
                    stmt = stmt.where(observations.c.integration == integration)
                ids = list(c.execute(stmt.limit(REPLAY_PAGE)).scalars())
                if not ids:
                    break
                c.execute(observations.update().where(observations.c.id.in_(ids), observations.c.status == status)
                          .values(**self._fresh_observation()))
            total += len(ids)
            if progress is not None:
                progress(len(ids))
        if total:
            self.host.pipeline.notify_new_observations()
        return total

    def _fresh_observation(self) -> dict[str, object]:
        return dict(status="pending", attempts=0, claims=0, next_attempt_at=self.host.clock.now(), claimed_by=None,
                    claimed_until=None, last_error=None, finished_at=None)

    # ------------------------------------------------------------------ deliveries
    def list_deliveries(self, *, status: str | None = None, tenant_id: str | None = None,
                        integration: str | None = None, limit: int = 50) -> list[Delivery]:
        """Newest first."""
        stmt = select(deliveries).order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
        if (wanted := _status(status, DeliveryStatus, "delivery")) is not None:
            stmt = stmt.where(deliveries.c.status == wanted)
        if tenant_id is not None:
            stmt = stmt.where(deliveries.c.tenant_id == tenant_id)
        if integration is not None:
            stmt = stmt.where(deliveries.c.integration == integration)
        with self.host.store.read() as c:
            return [delivery_from_row(r) for r in c.execute(stmt.limit(max(1, limit)))]

    def get_delivery(self, delivery_id: str, *, tenant_id: str | None = None) -> Delivery:
        stmt = select(deliveries).where(deliveries.c.id == delivery_id)
        if tenant_id is not None:
            stmt = stmt.where(deliveries.c.tenant_id == tenant_id)
        with self.host.store.read() as c:
            row = c.execute(stmt).first()
        if row is None:
            raise NotFound(f"No delivery {delivery_id!r}; list them with `intellectra-integrations deliveries list`.",
                           code="delivery_not_found")
        return delivery_from_row(row)

    def retry_delivery(self, delivery_id: str, *, tenant_id: str | None = None) -> Delivery:
        """Send a dead, cancelled or waiting delivery now, with a fresh retry schedule.

        Refused while a worker holds the delivery (its claim has not run out): that worker is sending it,
        and a re-queued copy would be sent a second time. The check and the change are one UPDATE, so a
        worker claiming it at the same moment cannot slip between them.
        """
        delivery = self.get_delivery(delivery_id, tenant_id=tenant_id)
        self._refuse_if_delivered(delivery)
        now = self.host.clock.now()
        with self.host.store.begin() as c:
            changed = c.execute(deliveries.update().where(
                deliveries.c.id == delivery_id, deliveries.c.status == delivery.status.value,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until <= now)).values(
                status="pending", attempts=0, next_attempt_at=now, retry_deadline=None, claimed_by=None,
                claimed_until=None)).rowcount
        if not changed:
            with self.host.store.read() as c:
                claimed_until = c.execute(select(deliveries.c.claimed_until).where(
                    deliveries.c.id == delivery_id)).scalar()
            self._refuse_if_delivered(self.get_delivery(delivery_id, tenant_id=tenant_id))
            if claimed_until is not None and claimed_until > now:
                raise DeliveryInFlight(
                    f"Delivery {delivery_id} is being sent right now (a worker holds it until "
                    f"{claimed_until:%H:%M:%S} UTC), so it was not re-queued; wait for that attempt to finish "
                    "(`deliveries list` shows its outcome) and retry it then if it did not go through.")
            return self.retry_delivery(delivery_id, tenant_id=tenant_id)  # it changed state meanwhile: again
        self.host.pipeline.notify_new_deliveries()
        return self.get_delivery(delivery_id)

    @staticmethod
    def _refuse_if_delivered(delivery: Delivery) -> None:
        if delivery.status is DeliveryStatus.DELIVERED:
            raise AlreadyDone(f"Delivery {delivery.id} was already delivered"
                              f"{' at ' + delivery.delivered_at.isoformat() if delivery.delivered_at else ''}; "
                              "there is nothing to retry.", code="delivery_already_delivered")
