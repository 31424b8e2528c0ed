"""Connections: rows, encrypted credentials, and state changes (with audit and domain events).

The connect *flow* (states, callbacks) lives in ``core.connect_flow``; this module owns the row.

A change computed from a connection read earlier (a status refresh that asked the provider, a
worker's handler) is applied to the row *as it is when written*: each write reads the row, merges
the change onto it and updates it only if its ``version`` is still the one read; otherwise it reads
again and retries. So a refresh and a worker writing the same row keep both their changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection as DB
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit import write_audit
from core.clock import Clock
from core.domain import DomainEvents
from core.errors import ConnectError, IntellectraError, NotConnected
from core.events import NewDomainEvent
from core.ids import new_id
from core.models import Connected, Connection, ConnectionState, ConnectionStatus, Tenant
from core.plugins import PluginHost
from core.secrets import SecretBox
from core.store import Store
from core.store.tables import connections

log = logging.getLogger("intellectra.connections")

MAX_WRITE_TRIES = 8
"""Rounds of read-merge-write before a change to one connection gives up (each lost round means another
writer committed a change to the same row in between: eight in a row do not happen in practice)."""


class ConnectionBusy(IntellectraError):
    """Other writers kept changing the connection while this change was being applied."""

    code = "connection_busy"
    http_status = 503


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
    def __init__(self, *, store: Store, clock: Clock, secrets: SecretBox, plugins: PluginHost,
                 events: DomainEvents) -> None:
        self.store, self.clock, self.secrets, self.plugins, self.events = store, clock, secrets, plugins, events

    # ------------------------------------------------------------------ reading
    def find(self, tenant_id: str, integration: str, *, conn: DB | None = None) -> Connection | None:
        with self.store.read_in(conn) as c:
            row = c.execute(select(connections).where(connections.c.tenant_id == tenant_id,
                                                      connections.c.integration == integration)).first()
        return connection_from_row(row) if row else None

    def get_active(self, tenant_id: str, integration: str) -> Connection:
        found = self.find(tenant_id, integration)
        if found is None or not found.is_active:
            title = self.plugins.get(integration).info.title  # type: ignore[union-attr]
            raise NotConnected(f"{title} is not connected for this site; connect it under Settings > Integrations.")
        return found

    def by_external_id(self, integration: str, external_id: str, *, conn: DB | None = None) -> Connection | None:
        with self.store.read_in(conn) as c:
            row = c.execute(select(connections).where(connections.c.integration == integration,
                                                      connections.c.external_id == external_id)).first()
        return connection_from_row(row) if row else None

    def list(self, *, tenant_id: str | None = None, integration: str | None = None) -> list[Connection]:
        stmt = select(connections).order_by(connections.c.tenant_id, connections.c.integration)
        if tenant_id is not None:
            stmt = stmt.where(connections.c.tenant_id == tenant_id)
        if integration is not None:
            stmt = stmt.where(connections.c.integration == integration)
        with self.store.read() as c:
            return [connection_from_row(r) for r in c.execute(stmt)]

    def secrets_of(self, connection_id: str) -> dict[str, str]:
        with self.store.read() as c:
            token = c.execute(select(connections.c.secrets).where(connections.c.id == connection_id)).scalar()
        return {k: str(v) for k, v in self.secrets.decrypt_json(token).items()}

    # ------------------------------------------------------------------ writing
    def save_connected(self, tenant: Tenant, integration: str, result: Connected, *, actor: str) -> Connection:
        """Store a made connection (insert or re-connect) with audit and ``integration.*`` event.

        Refuses an ``external_id`` that another tenant's connection holds: one account, one site.
        """
        now = self.clock.now()
        status = result.status or ConnectionStatus(state=ConnectionState.CONNECTED, reason="Connected.")
        if status.state in (ConnectionState.PENDING, ConnectionState.DISCONNECTED):
            raise ConnectError(f"integration {integration!r} returned a connection in state {status.state.value}; "
                               "a made connection is connected, action_required, needs_reauth or error")
        secrets = self.secrets.encrypt_json(result.secrets) if result.secrets else None
        values = dict(state=status.state.value, reason=status.reason, action_url=status.action_url,
                      external_id=result.external_id, livemode=result.livemode, data=dict(result.data),
                      secrets=secrets, updated_at=now)
        try:
            with self.store.begin() as c:
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
                    c.execute(connections.update().where(connections.c.id == cid).values(
                        **values, version=connections.c.version + 1))
                write_audit(c, self.clock, action="connected", actor=actor, tenant_id=tenant.id,
                            integration=integration,
                            detail={"external_id": result.external_id, "state": status.state.value})
                saved = self.find(tenant.id, integration, conn=c)
                assert saved is not None
                self._emit_state(c, saved, status)
        except IntegrityError as exc:  # a concurrent connect of the same account won the race
            raise self._account_in_use(integration) from exc
        return saved

    def _account_in_use(self, integration: str) -> ConnectError:
        record = self.plugins.records.get(integration)
        title = record.info.title if record and record.info else integration
        return ConnectError(
            f"This {title} account is already connected to another site. An account can be connected to one "
            f"site only: create a new {title} account (you can use the same email address) and connect that one.",
            code="account_already_connected", http_status=409)

    def apply_status(self, c: DB, connection: Connection, status: ConnectionStatus | None,
                     data_updates: Mapping[str, Any] | None = None, *, actor: str = "system") -> Connection:
        """Store a new status (``None``: keep the state) and merge detail into ``data``; emit
        ``integration.*`` when the state changed.

        ``connection`` is the caller's (possibly earlier) view: the change lands on the row as it is
        now, and is dropped if the row no longer is that connection (another account, or disconnected
        meanwhile: a late status must not bring a disconnected connection back).
        """
        def change(current: Connection) -> dict[str, Any] | None:
            if current.external_id != connection.external_id or (connection.is_active and not current.is_active):
                log.warning("connection %s changed (now %s, account %r) before a status from %s could be stored; "
                            "the status was dropped", current.id, current.state.value, current.external_id, actor)
                return None
            values: dict[str, Any] = {}
            if status is not None and (status.state, status.reason, status.action_url) != (
                    current.state, current.reason, current.action_url):
                values.update(state=status.state.value, reason=status.reason, action_url=status.action_url)
            if data_updates and {**current.data, **data_updates} != dict(current.data):
                values["data"] = {**current.data, **data_updates}
            if not values:  # what it says is what is stored: a refresh that found nothing new writes nothing
                return None
            return {**values, "updated_at": self.clock.now()}

        before, after, changed = self._change(c, connection.id, change)
        if changed and status is not None and status.state != before.state:
            write_audit(c, self.clock, action=f"state:{status.state.value}", actor=actor,
                        tenant_id=before.tenant_id, integration=before.integration,
                        detail={"from": before.state.value, "reason": status.reason})
            self._emit_state(c, before, status)
        return after

    def mark_disconnected(self, c: DB, connection: Connection, reason: str, *, actor: str) -> Connection:
        """Forget credentials and the account binding; keep the row and the audit trail.

        Dropped (with a warning) if the row meanwhile holds another account than ``connection``.
        """
        def change(current: Connection) -> dict[str, Any] | None:
            if current.external_id != connection.external_id:
                log.warning("connection %s holds account %r now, not %r; its disconnect (%s) was dropped",
                            current.id, current.external_id, connection.external_id, reason)
                return None
            data = dict(current.data)
            if current.external_id:
                data["previous_external_id"] = current.external_id
            return dict(state=ConnectionState.DISCONNECTED.value, reason=reason, action_url=None, secrets=None,
                        external_id=None, data=data, updated_at=self.clock.now())

        before, after, changed = self._change(c, connection.id, change)
        if changed:
            write_audit(c, self.clock, action="disconnected", actor=actor, tenant_id=before.tenant_id,
                        integration=before.integration,
                        detail={"external_id": before.external_id, "reason": reason})
            if before.state != ConnectionState.DISCONNECTED:
                self._emit_state(c, before, ConnectionStatus(state=ConnectionState.DISCONNECTED, reason=reason))
        return after

    def _change(self, c: DB, connection_id: str,
                change: Callable[[Connection], dict[str, Any] | None]) -> tuple[Connection, Connection, bool]:
        """Read-merge-write one connection in ``c``'s transaction without losing a concurrent write.

        ``change`` gets the row as it is now and returns the values to set (``None``: leave it). The
        UPDATE applies only if the row's version is still the one read; if another writer committed in
        between (PostgreSQL runs writers side by side; SQLite's single writer never gets here twice),
        the row is read again and ``change`` re-applied to it. Returns the row before, after, and
        whether it changed.
        """
        for _ in range(MAX_WRITE_TRIES):
            row = c.execute(select(connections).where(connections.c.id == connection_id)).first()
            if row is None:
                raise NotConnected(f"Connection {connection_id} no longer exists.", code="connection_not_found")
            before = connection_from_row(row)
            values = change(before)
            if values is None:
                return before, before, False
            written = c.execute(connections.update().where(connections.c.id == connection_id,
                                                           connections.c.version == row.version)
                                .values(**values, version=row.version + 1))
            if written.rowcount == 1:
                after = self.find(before.tenant_id, before.integration, conn=c)
                assert after is not None
                return before, after, True
        raise ConnectionBusy(f"The {before.integration} connection kept changing while it was being updated; "
                             "nothing was changed. Try again.")

    def _emit_state(self, c: DB, connection: Connection, status: ConnectionStatus) -> None:
        event_type = STATE_EVENTS.get(status.state)
        if event_type is None:
            return
        self.events.emit_in(c, connection.tenant_id, [NewDomainEvent(type=event_type, data={
            "integration": connection.integration, "state": status.state.value, "reason": status.reason,
            "action_url": status.action_url})], source="host")
