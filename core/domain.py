"""Writing domain events: validate against the versioned schema, store, fan out to the outbox.

One call writes the events, one delivery per matching subscription, and one observation per
observing plugin with an active connection of the event's tenant — all in the caller's transaction
(transactional outbox). No plugin code runs here: workers call the observers' ``on_domain_event``
after the commit (``core.pipeline.observer``), so a slow or failing plugin never holds the
caller's transaction, its locks, or a creator's request.
"""

from __future__ import annotations

import builtins
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import Connection as DB
from sqlalchemy import select

from core.clock import Clock
from core.context import OutboundDelivery
from core.converter import converter
from core.events import NewDomainEvent
from core.ids import new_id
from core.models import ConnectionState, DomainEvent, Subscription
from core.plugins import HOST_APP, PluginHost
from core.secrets import SecretBox
from core.store import Store
from core.store.tables import connections, deliveries, domain_events, observations, subscriptions

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


class Outbox(Protocol):
    """Who writes outbox rows: the clock that dates them and the box that encrypts their secrets
    (the host, or one of its services)."""

    @property
    def clock(self) -> Clock: ...

    @property
    def secrets(self) -> SecretBox: ...


def outbox_row(outbox: Outbox, *, tenant_id: str, integration: str, event_type: str, target_url: str, body: str,
               encrypted_secret: str | None, subscription_id: str | None = None,
               domain_event_id: str | None = None, encrypted_target: str | None = None) -> dict[str, Any]:
    """One pending ``deliveries`` row (the only place that builds one)."""
    now = outbox.clock.now()
    return dict(id=new_id("msg"), tenant_id=tenant_id, integration=integration, subscription_id=subscription_id,
                domain_event_id=domain_event_id, event_type=event_type, target_url=target_url,
                target_url_secret=encrypted_target, payload=body, secret=encrypted_secret, status="pending",
                attempts=0, next_attempt_at=now, created_at=now)


def plugin_outbox_row(outbox: Outbox, out: OutboundDelivery, *, tenant_id: str, integration: str,
                      domain_event_id: str | None = None) -> dict[str, Any]:
    """A delivery a plugin asked for with ``ctx.deliver``. Its target can be a credential (a Slack
    webhook URL), so the full URL is stored encrypted and only its host is stored in clear."""
    return outbox_row(outbox, tenant_id=tenant_id, integration=integration, event_type=out.event_type,
                      target_url=display_url(out.target_url), body=out.body,
                      encrypted_secret=outbox.secrets.encrypt(out.secret) if out.secret else None,
                      domain_event_id=domain_event_id, encrypted_target=outbox.secrets.encrypt(out.target_url))


def filters_match(filters: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    return all(str(data.get(key)) == str(value) for key, value in filters.items())


class DomainEvents:
    def __init__(self, *, store: Store, clock: Clock, secrets: SecretBox, plugins: PluginHost,
                 wake_observers: Callable[[], None]) -> None:
        self.store, self.clock, self.secrets, self.plugins = store, clock, secrets, plugins
        self._wake_observers = wake_observers

    def emit(self, tenant_id: str, event_type: str, data: Any, *, conn: DB | None = None,
             occurred_at: datetime | None = None) -> DomainEvent:
        """The host app's ``host.emit``: pass ``conn`` to join your own transaction."""
        with self.store.begin(conn) as c:
            (event,) = self.emit_in(c, tenant_id, [NewDomainEvent(type=event_type, data=data,
                                                                  occurred_at=occurred_at)], source="host")
        if conn is None and self.observers_of({event_type}):
            self.wake_observers()
        return event

    def wake_observers(self) -> None:
        """Observations were committed: wake this process's idle observing loop, if it runs workers
        (other processes find them on their next poll)."""
        self._wake_observers()

    def emit_in(self, c: DB, tenant_id: str, new_events: Sequence[NewDomainEvent], *, source: str,
                inbound_event_id: str | None = None) -> list[DomainEvent]:
        """Write ``new_events`` for one tenant, with their outbox rows, in the caller's transaction."""
        return self.emit_many(c, [(tenant_id, new_events, inbound_event_id)], source=source)[0]

    def emit_many(self, c: DB, batch: Sequence[tuple[str, Sequence[NewDomainEvent], str | None]], *,
                  source: str) -> list[list[DomainEvent]]:
        """Write a batch of ``(tenant_id, events, inbound_event_id)`` items: one INSERT of events, one
        SELECT of subscriptions and one INSERT of deliveries in all (not three statements per inbound
        event — a worker's batch costs three round trips), plus, when a loaded plugin observes one of
        the types, one SELECT of connections and one INSERT of observations. Returns the written
        events per item."""
        now = self.clock.now()
        catalogue = self.plugins.catalogue
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
        if rows:
            c.execute(deliveries.insert(), rows)
        observation_rows = self._observations(c, events)
        if observation_rows:
            c.execute(observations.insert(), observation_rows)
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
                rows.append(outbox_row(self, tenant_id=event.tenant_id, integration=sub.integration,
                                       event_type=event.type, target_url=sub.target_url, body=body,
                                       encrypted_secret=sub.secret, subscription_id=sub.id,
                                       domain_event_id=event.id))
        return rows

    def observers_of(self, event_types: builtins.set[str]) -> dict[str, frozenset[str]]:
        """``{observer: the types it observes}`` for loaded plugins, and the host app (``HOST_APP``), that
        observe any of ``event_types``."""
        found: dict[str, frozenset[str]] = {}
        for record in self.plugins.loaded():
            if (record.info is not None and record.info.observes & event_types
                    and self.plugins.implements(record.name, "on_domain_event")):
                found[record.name] = record.info.observes
        if self.plugins.host_app_observes & event_types:
            found[HOST_APP] = self.plugins.host_app_observes
        return found

    def _observations(self, c: DB, events: Sequence[DomainEvent]) -> builtins.list[dict[str, Any]]:
        """One pending observation per (event, observing plugin with an active connection of its tenant),
        and one per event the host app observes (every tenant's: it needs no connection).

        Which connections are active is decided now, in the event's transaction; the worker checks
        again before it calls the plugin (a connection may be gone by then).
        """
        observers = self.observers_of({e.type for e in events})
        if not observers:
            return []
        plugins = [name for name in observers if name != HOST_APP]
        active = {(row.tenant_id, row.integration) for row in c.execute(
            select(connections.c.tenant_id, connections.c.integration).where(
                connections.c.tenant_id.in_({e.tenant_id for e in events}),
                connections.c.integration.in_(plugins), connections.c.state.not_in(INACTIVE)))} if plugins else set()
        now = self.clock.now()
        return [dict(id=new_id("obs"), domain_event_id=event.id, tenant_id=event.tenant_id, integration=name,
                     event_type=event.type, status="pending", attempts=0, claims=0, next_attempt_at=now,
                     created_at=now)
                for event in events for name, types in observers.items()
                if event.type in types and (name == HOST_APP or (event.tenant_id, name) in active)]

    def list(self, tenant_id: str, *, event_type: str | None = None, limit: int = 50) -> list[DomainEvent]:
        stmt = (select(domain_events).where(domain_events.c.tenant_id == tenant_id)
                .order_by(domain_events.c.created_at.desc(), domain_events.c.id.desc()).limit(limit))
        if event_type is not None:
            stmt = stmt.where(domain_events.c.type == event_type)
        with self.store.read() as c:
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
        catalogue = self.plugins.catalogue
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


