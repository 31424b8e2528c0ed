"""Database rows of ``inbound_events``, ``deliveries`` and ``observations`` as the public models."""

from __future__ import annotations

import json
from typing import Any

from core.models import Delivery, InboundStatus, Observation, StoredEvent


def stored_event_from_row(row: Any) -> StoredEvent:
    return StoredEvent(id=row.id, integration=row.integration, external_id=row.external_id, type=row.type,
                       payload=json.loads(row.payload), account=row.account, livemode=row.livemode,
                       tenant_id=row.tenant_id, status=InboundStatus(row.status), attempts=row.attempts,
                       last_error=row.last_error, received_at=row.received_at, processed_at=row.processed_at)


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(id=row.id, tenant_id=row.tenant_id, integration=row.integration, target_url=row.target_url,
                    event_type=row.event_type, status=row.status, attempts=row.attempts,
                    subscription_id=row.subscription_id, domain_event_id=row.domain_event_id,
                    next_attempt_at=row.next_attempt_at, last_status_code=row.last_status_code,
                    last_error=row.last_error, created_at=row.created_at, delivered_at=row.delivered_at)


def observation_from_row(row: Any) -> Observation:
    return Observation(id=row.id, domain_event_id=row.domain_event_id, tenant_id=row.tenant_id,
                       integration=row.integration, event_type=row.event_type, status=row.status,
                       attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_error=row.last_error,
                       created_at=row.created_at, finished_at=row.finished_at)
