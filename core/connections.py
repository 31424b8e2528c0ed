"""Connections: rows, encrypted credentials, and state changes (with audit and domain events).

The connect *flow* (states, callbacks) lives in ``core.connect_flow``; this module owns the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection as DB
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit import write_audit
from core.errors import ConnectError, NotConnected
from core.events import NewDomainEvent
from core.ids import new_id
from core.models import Connected, Connection, ConnectionState, ConnectionStatus, Tenant
from core.store.tables import connections

if TYPE_CHECKING:
    from core.host import Host

STATE_EVENTS = {
    ConnectionState.CONNECTED: "integration.connected",
    ConnectionState.ACTION_REQUIRED: "integration.action_required",
    ConnectionState.NEEDS_REAUTH: "integration.action_required",
    ConnectionState.ERROR: "integration.action_required",
    ConnectionState.DISCONNECTED: "integration.disconnected",
}


def connection_from_row(row: Any) -> Connection:
    return Connection(id=row.id, tenant_id=row.tenant_id, integration=row.integration, state=row.state,
                      reason=row.reason or "", action_url=row.action_url, external_id=row.external_id,
                      livemode=row.livemode, data=row.data or {}, created_at=row.created_at,
                      updated_at=row.updated_at)


class Connections:
    def __init__(self, host: Host) -> None:
        self.host = host

    # ------------------------------------------------------------------ reading
    def find(self, tenant_id: str, integration: str, *, conn: DB | None = None) -> Connection | None:
        with self.host.store.read_in(conn) as c:
            row = c.execute(select(connections).where(connections.c.tenant_id == tenant_id,
                                                      connections.c.integration == integration)).first()
        return connection_from_row(row) if row else None

    def get_active(self, tenant_id: str, integration: str) -> Connection:
        found = self.find(tenant_id, integration)
        if found is None or not found.is_active:
            title = self.host.plugins.get(integration).info.title  # type: ignore[union-attr]
            raise NotConnected(f"{title} is not connected for this site; connect it under Settings > Integrations.")
        return found

    def by_external_id(self, integration: str, external_id: str, *, conn: DB | None = None) -> Connection | None:
        with self.host.store.read_in(conn) as c:
            row = c.execute(select(connections).where(connections.c.integration == integration,
                                                      connections.c.external_id == external_id)).first()
        return connection_from_row(row) if row else None

    def list(self, *, tenant_id: str | None = None, integration: str | None = None) -> list[Connection]:
        stmt = select(connections).order_by(connections.c.tenant_id, connections.c.integration)
        if tenant_id is not None:
            stmt = stmt.where(connections.c.tenant_id == tenant_id)
        if integration is not None:
            stmt = stmt.where(connections.c.integration == integration)
        with self.host.store.read() as c:
            return [connection_from_row(r) for r in c.execute(stmt)]

    def secrets_of(self, connection_id: str) -> dict[str, str]:
        with self.host.store.read() as c:
            token = c.execute(select(connections.c.secrets).where(connections.c.id == connection_id)).scalar()
        return {k: str(v) for k, v in self.host.secrets.decrypt_json(token).items()}

    # ------------------------------------------------------------------ writing
    def save_connected(self, tenant: Tenant, integration: str, result: Connected, *, actor: str) -> Connection:
        """Store a made connection (insert or re-connect) with audit and ``integration.*`` event.

        Refuses an ``external_id`` that another tenant's connection holds: one account, one site.
        """
        now = self.host.clock.now()
        status = result.status or ConnectionStatus(state=ConnectionState.CONNECTED, reason="Connected.")
        if status.state in (ConnectionState.PENDING, ConnectionState.DISCONNECTED):
            raise ConnectError(f"integration {integration!r} returned a connection in state {status.state.value}; "
                               "a made connection is connected, action_required, needs_reauth or error")
        secrets = self.host.secrets.encrypt_json(result.secrets) if result.secrets else None
        values = dict(state=status.state.value, reason=status.reason, action_url=status.action_url,
                      external_id=result.external_id, livemode=result.livemode, data=dict(result.data),
                      secrets=secrets, updated_at=now)
        try:
            with self.host.store.begin() as c:
                if result.external_id is not None:
                    holder = self.by_external_id(integration, result.external_id, conn=c)
                    if holder is not None and holder.tenant_id != tenant.id:
                        raise self._account_in_use(integration)
                existing = self.find(tenant.id, integration, conn=c)
                if existing is None:
                    cid = new_id("con")
                    c.execute(connections.insert().values(id=cid, tenant_id=tenant.id, integration=integration,
                                                          created_at=now, **values))
                else:
                    cid = existing.id
                    c.execute(connections.update().where(connections.c.id == cid).values(**values))
                write_audit(c, self.host.clock, action="connected", actor=actor, tenant_id=tenant.id,
                            integration=integration,
                            detail={"external_id": result.external_id, "state": status.state.value})
                saved = self.find(tenant.id, integration, conn=c)
                assert saved is not None
                self._emit_state(c, saved, status)
        except IntegrityError as exc:  # a concurrent connect of the same account won the race
            raise self._account_in_use(integration) from exc
        return saved

    def _account_in_use(self, integration: str) -> ConnectError:
        record = self.host.plugins.records.get(integration)
        title = record.info.title if record and record.info else integration
        return ConnectError(
            f"This {title} account is already connected to another site. An account can be connected to one "
            f"site only: create a new {title} account (you can use the same email address) and connect that one.",
            code="account_already_connected", http_status=409)

    def apply_status(self, c: DB, connection: Connection, status: ConnectionStatus,
                     data_updates: Mapping[str, Any] | None = None, *, actor: str = "system") -> Connection:
        """Store a new status (and detail); emit ``integration.*`` when the state changed."""
        values: dict[str, Any] = dict(state=status.state.value, reason=status.reason, action_url=status.action_url,
                                      updated_at=self.host.clock.now())
        if data_updates:
            values["data"] = {**connection.data, **data_updates}
        c.execute(connections.update().where(connections.c.id == connection.id).values(**values))
        if status.state != connection.state:
            write_audit(c, self.host.clock, action=f"state:{status.state.value}", actor=actor,
                        tenant_id=connection.tenant_id, integration=connection.integration,
                        detail={"from": connection.state.value, "reason": status.reason})
            self._emit_state(c, connection, status)
        updated = self.find(connection.tenant_id, connection.integration, conn=c)
        assert updated is not None
        return updated

    def mark_disconnected(self, c: DB, connection: Connection, reason: str, *, actor: str) -> Connection:
        """Forget credentials and the account binding; keep the row and the audit trail."""
        data = dict(connection.data)
        if connection.external_id:
            data["previous_external_id"] = connection.external_id
        c.execute(connections.update().where(connections.c.id == connection.id).values(
            state=ConnectionState.DISCONNECTED.value, reason=reason, action_url=None, secrets=None,
            external_id=None, data=data, updated_at=self.host.clock.now()))
        write_audit(c, self.host.clock, action="disconnected", actor=actor, tenant_id=connection.tenant_id,
                    integration=connection.integration,
                    detail={"external_id": connection.external_id, "reason": reason})
        if connection.state != ConnectionState.DISCONNECTED:
            self._emit_state(c, connection, ConnectionStatus(state=ConnectionState.DISCONNECTED, reason=reason))
        updated = self.find(connection.tenant_id, connection.integration, conn=c)
        assert updated is not None
        return updated

    def _emit_state(self, c: DB, connection: Connection, status: ConnectionStatus) -> None:
        event_type = STATE_EVENTS.get(status.state)
        if event_type is None:
            return
        self.host.events.emit_in(c, connection.tenant_id, [NewDomainEvent(type=event_type, data={
            "integration": connection.integration, "state": status.state.value, "reason": status.reason,
            "action_url": status.action_url})], source="host")
