"""Writing domain events: validate against the versioned schema, store, fan out to the outbox.

One call writes the events, one delivery per matching subscription, and whatever observing
plugins ``ctx.deliver`` — all in the caller's transaction (transactional outbox).
"""

from __future__ import annotations

import builtins
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import Connection as DB
from sqlalchemy import select

from core.connections import connection_from_row
from core.context import OutboundDelivery
from core.converter import converter
from core.events import NewDomainEvent
from core.ids import new_id
from core.models import ConnectionState, DomainEvent, Subscription, Tenant
from core.store.tables import connections, deliveries, domain_events, subscriptions

if TYPE_CHECKING:
    from core.host import Host

INACTIVE = (ConnectionState.PENDING.value, ConnectionState.DISCONNECTED.value)


def envelope(event: DomainEvent) -> dict[str, Any]:
    """The stable, versioned JSON shape every target receives (and sample endpoints return)."""
    return {
        "id": event.id,
        "type": event.type,
        "version": event.version,
        "occurred_at": converter.unstructure(event.occurred_at),
        "tenant_id": event.tenant_id,
        "data": dict(event.data),
    }


def display_url(url: str) -> str:
    """What listings show of a target: scheme and host only (a URL's path can be a credential)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "(hidden)"


def outbox_row(host: Host, *, tenant_id: str, integration: str, event_type: str, target_url: str, body: str,
               encrypted_secret: str | None, subscription_id: str | None = None,
               domain_event_id: str | None = None, encrypted_target: str | None = None) -> dict[str, Any]:
    """One pending ``deliveries`` row (the only place that builds one)."""
    now = host.clock.now()
    return dict(id=new_id("msg"), tenant_id=tenant_id, integration=integration, subscription_id=subscription_id,
                domain_event_id=domain_event_id, event_type=event_type, target_url=target_url,
                target_url_secret=encrypted_target, payload=body, secret=encrypted_secret, status="pending",
                attempts=0, next_attempt_at=now, created_at=now)


def plugin_outbox_row(host: Host, out: OutboundDelivery, *, tenant_id: str, integration: str,
                      domain_event_id: str | None = None) -> dict[str, Any]:
    """A delivery a plugin asked for with ``ctx.deliver``. Its target can be a credential (a Slack
    webhook URL), so the full URL is stored encrypted and only its host is stored in clear."""
    return outbox_row(host, tenant_id=tenant_id, integration=integration, event_type=out.event_type,
                      target_url=display_url(out.target_url), body=out.body,
                      encrypted_secret=host.secrets.encrypt(out.secret) if out.secret else None,
                      domain_event_id=domain_event_id, encrypted_target=host.secrets.encrypt(out.target_url))


def filters_match(filters: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    return all(str(data.get(key)) == str(value) for key, value in filters.items())


class DomainEvents:
    def __init__(self, host: Host) -> None:
        self.host = host

    def emit(self, tenant_id: str, event_type: str, data: Any, *, conn: DB | None = None,
             occurred_at: datetime | None = None) -> DomainEvent:
        """The host app's ``host.emit``: pass ``conn`` to join your own transaction."""
        with self.host.store.begin(conn) as c:
            (event,) = self.emit_in(c, tenant_id, [NewDomainEvent(type=event_type, data=data,
                                                                  occurred_at=occurred_at)], source="host")
        return event

    def emit_in(self, c: DB, tenant_id: str, new_events: Sequence[NewDomainEvent], *, source: str,
                inbound_event_id: str | None = None) -> list[DomainEvent]:
        """Write ``new_events`` for one tenant, with their outbox rows, in the caller's transaction."""
        return self.emit_many(c, [(tenant_id, new_events, inbound_event_id)], source=source)[0]

    def emit_many(self, c: DB, batch: Sequence[tuple[str, Sequence[NewDomainEvent], str | None]], *,
                  source: str) -> list[list[DomainEvent]]:
        """Write a batch of ``(tenant_id, events, inbound_event_id)`` items: one INSERT of events, one
        SELECT of subscriptions and one INSERT of deliveries in all (not three statements per inbound
        event — a worker's batch costs three round trips). Returns the written events per item."""
        now = self.host.clock.now()
        catalogue = self.host.event_types
        per_item: list[list[DomainEvent]] = []
        event_rows: list[dict[str, Any]] = []
        for tenant_id, new_events, inbound_event_id in batch:
            written = []
            for new in new_events:
                data = catalogue.validate(new.type, new.data)  # first: it names an unknown type clearly
                written.append(DomainEvent(id=new_id("ev"), type=new.type, tenant_id=tenant_id,
                                           version=catalogue[new.type].version, data=data,
                                           occurred_at=new.occurred_at or now, source=source))
            per_item.append(written)
            event_rows.extend(dict(id=e.id, tenant_id=e.tenant_id, type=e.type, version=e.version, data=dict(e.data),
                                   source=e.source, inbound_event_id=inbound_event_id, occurred_at=e.occurred_at,
                                   created_at=now) for e in written)
        if not event_rows:
            return per_item
        c.execute(domain_events.insert(), event_rows)
        events = [e for written in per_item for e in written]
        rows = self._subscription_deliveries(c, events)
        for written in per_item:
            if written:
                rows.extend(self._observer_deliveries(c, written[0].tenant_id, written))
        if rows:
            c.execute(deliveries.insert(), rows)
        return per_item

    def _subscription_deliveries(self, c: DB, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        """One delivery per (event, subscription of its tenant to its type whose filters match)."""
        subs = c.execute(select(subscriptions).where(
            subscriptions.c.tenant_id.in_({e.tenant_id for e in events}),
            subscriptions.c.event_type.in_({e.type for e in events}))).all()
        rows: list[dict[str, Any]] = []
        for event in events:
            body: str | None = None
            for sub in subs:
                if (sub.tenant_id != event.tenant_id or sub.event_type != event.type
                        or not filters_match(sub.filters or {}, event.data)):
                    continue
                body = body or json.dumps(envelope(event), separators=(",", ":"))
                rows.append(outbox_row(self.host, tenant_id=event.tenant_id, integration=sub.integration,
                                       event_type=event.type, target_url=sub.target_url, body=body,
                                       encrypted_secret=sub.secret, subscription_id=sub.id,
                                       domain_event_id=event.id))
        return rows

    def _observer_deliveries(self, c: DB, tenant_id: str, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
        observers = [r for r in self.host.plugins.loaded()
                     if r.info is not None and r.info.observes & {e.type for e in events}]
        if not observers:
            return []
        active = {row.integration: row for row in c.execute(select(connections).where(
            connections.c.tenant_id == tenant_id, connections.c.state.not_in(INACTIVE)))}
        rows: list[dict[str, Any]] = []
        tenant: Tenant | None = None
        for record in observers:
            if record.name not in active or not self.host.plugins.implements(record.name, "on_domain_event"):
                continue
            row = active[record.name]
            connection = connection_from_row(row)
            secrets = {k: str(v) for k, v in self.host.secrets.decrypt_json(row.secrets).items()}
            tenant = tenant or self.host.tenants.get(tenant_id, conn=c)
            for event in events:
                if event.type not in record.info.observes:  # type: ignore[union-attr]
                    continue
                ctx = self.host.context(record.name, tenant=tenant, connection=connection, secrets=secrets)
                try:
                    self.host.plugins.call(record.name, "on_domain_event", ctx=ctx, event=event)
                except Exception:  # an observer's failure never blocks the event (it is recorded)
                    continue
                rows.extend(plugin_outbox_row(self.host, out, tenant_id=tenant_id, integration=record.name,
                                              domain_event_id=event.id) for out in ctx.effects.deliveries)
        return rows

    def list(self, tenant_id: str, *, event_type: str | None = None, limit: int = 50) -> list[DomainEvent]:
        stmt = (select(domain_events).where(domain_events.c.tenant_id == tenant_id)
                .order_by(domain_events.c.created_at.desc(), domain_events.c.id.desc()).limit(limit))
        if event_type is not None:
            stmt = stmt.where(domain_events.c.type == event_type)
        with self.host.store.read() as c:
            return [DomainEvent(id=r.id, type=r.type, tenant_id=r.tenant_id, version=r.version, data=r.data,
                                occurred_at=r.occurred_at, source=r.source) for r in c.execute(stmt)]

    def recent_payloads(self, tenant_id: str, event_type: str, *, limit: int = 3,
                        filters: Mapping[str, Any] | None = None, scan: int = 200) -> builtins.list[dict[str, Any]]:
        """The tenant's latest events of one type, newest first, in exactly the delivered shape.

        For sample endpoints (Zapier's "test trigger"), which must show what live deliveries carry.
        With ``filters`` only events a subscription with those filters would receive are shown,
        looked for among the latest ``scan`` events of the type (payloads are JSON, so matching is
        done here, the same way fan-out does it).
        """
        if not filters:
            return [envelope(e) for e in self.list(tenant_id, event_type=event_type, limit=limit)]
        found = (e for e in self.list(tenant_id, event_type=event_type, limit=scan) if filters_match(filters, e.data))
        return [envelope(e) for e in itertools.islice(found, limit)]

    def example_payload(self, tenant_id: str, event_type: str) -> dict[str, Any]:
        """A stable example of ``event_type`` in the delivered shape, for when a tenant has none yet."""
        catalogue = self.host.event_types
        spec = catalogue.require(event_type)
        example = DomainEvent(id=f"ev_example_{event_type.replace('.', '_')}", type=event_type,
                              tenant_id=tenant_id, version=spec.version,
                              data=catalogue.validate(event_type, spec.example), occurred_at=EXAMPLE_TIME)
        return envelope(example)


EXAMPLE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
"""When catalogue examples happen: fixed, so examples are stable."""


def subscription_from_row(row: Any) -> Subscription:
    return Subscription(id=row.id, tenant_id=row.tenant_id, integration=row.integration, event_type=row.event_type,
                        target_url=row.target_url, filters=row.filters or {}, created_at=row.created_at)


