"""Applying what a hook asked for through ``ctx`` (status, data, disconnect, deliveries) — one place,
so every hook's effects are applied the same way and none is dropped silently."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection as DB

from core.context import Effects
from core.domain import plugin_outbox_row
from core.models import Connection
from core.store.tables import deliveries

if TYPE_CHECKING:
    from core.host import Host


def apply_effects(host: Host, c: DB, *, tenant_id: str, integration: str, connection: Connection | None,
                  effects: Effects, actor: str, domain_event_id: str | None = None) -> Connection | None:
    """Apply ``effects`` in the caller's transaction; returns the connection as it is afterwards.

    Connection changes need a connection; deliveries need only the tenant (``domain_event_id``: the
    event an observer's deliveries answer).
    """
    if connection is not None:
        if effects.status is not None or effects.data_updates:
            connection = host.connections.apply_status(c, connection, effects.status, effects.data_updates,
                                                       actor=actor)
        if effects.disconnected_reason:
            connection = host.connections.mark_disconnected(c, connection, effects.disconnected_reason,
                                                            actor="provider")
    if effects.deliveries:
        c.execute(deliveries.insert(), [plugin_outbox_row(host, out, tenant_id=tenant_id, integration=integration,
                                                          domain_event_id=domain_event_id)
                                        for out in effects.deliveries])
    return connection
