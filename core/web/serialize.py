"""JSON shapes of the tenant API (one place, so the page, the API and OpenAPI agree)."""

from __future__ import annotations

from typing import Any

from core.converter import converter
from core.models import ApiKey, Connection, Delivery, DomainEvent, Subscription
from core.plugins import PluginRecord


def connection_json(connection: Connection | None) -> dict[str, Any] | None:
    if connection is None:
        return None
    data: dict[str, Any] = converter.unstructure(connection)
    return data


def integration_json(record: PluginRecord, connection: Connection | None) -> dict[str, Any]:
    info = record.info
    assert info is not None
    return {
        "name": info.name,
        "title": info.title,
        "description": info.description,
        "capabilities": sorted(c.value for c in info.capabilities),
        "connect_fields": [converter.unstructure(f) for f in info.connect_fields],
        "connect_options": [converter.unstructure(o) for o in info.connect_options],
        "card_forms": [converter.unstructure(f) for f in info.card_forms],
        "state": connection.state.value if connection else "not_connected",
        "reason": connection.reason if connection else "",
        "action_url": connection.action_url if connection else None,
        "connection": connection_json(connection),
    }


def event_json(event: DomainEvent) -> dict[str, Any]:
    return dict(converter.unstructure(event))


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return dict(converter.unstructure(sub))


def api_key_json(key: ApiKey) -> dict[str, Any]:
    return dict(converter.unstructure(key))


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return dict(converter.unstructure(delivery))
