"""A hook call's ``ctx``: how the host's services get one, and applying what the hook asked for through
it (status, data, disconnect, deliveries) — one place, so every hook's effects are applied the same way
and none is dropped silently."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection as DB

from core.connections import Connections
from core.context import Effects, IntegrationContext
from core.domain import Outbox, plugin_outbox_row
from core.models import Connection, Tenant
from core.store.tables import deliveries


class ContextFactory(Protocol):
    """Makes the ``ctx`` of a hook call (``Host.context``); pass ``secrets`` when they are already
    decrypted (inside a transaction, where a second connection must not be opened)."""

    def __call__(self, integration: str, *, tenant: Tenant | None = None, connection: Connection | None = None,
                 base_url: str | None = None, secrets: dict[str, str] | None = None) -> IntegrationContext: ...


class EffectTarget(Outbox, Protocol):
    """What effects are applied to: the connections they change and the outbox their deliveries join
    (the host, or a service that holds the same collaborators)."""

    @property
    def connections(self) -> Connections: ...


def apply_effects(target: EffectTarget, c: DB, *, tenant_id: str, integration: str, connection: Connection | None,
                  effects: Effects, actor: str, domain_event_id: str | None = None) -> Connection | None:
    """Apply ``effects`` in the caller's transaction; returns the connection as it is afterwards.

    Connection changes need a connection; deliveries need only the tenant (``domain_event_id``: the
    event an observer's deliveries answer).
    """
    if connection is not None:
        if effects.status is not None or effects.data_updates:
            connection = target.connections.apply_status(c, connection, effects.status, effects.data_updates,
                                                         actor=actor)
        if effects.disconnected_reason:
            connection = target.connections.mark_disconnected(c, connection, effects.disconnected_reason,
                                                              actor="provider")
    if effects.deliveries:
        c.execute(deliveries.insert(), [plugin_outbox_row(target, out, tenant_id=tenant_id,
                                                          integration=integration, domain_event_id=domain_event_id)
                                        for out in effects.deliveries])
    return connection
