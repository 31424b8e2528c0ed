"""Subscriptions: targets that receive one domain event type for one tenant (Zapier REST hooks...)."""

from __future__ import annotations

import base64
import secrets as pysecrets
from collections.abc import Mapping
from typing import Any

import attrs
from sqlalchemy import select

from core.clock import Clock
from core.domain import subscription_from_row
from core.errors import NotFound, ValidationFailed
from core.ids import new_id
from core.models import Subscription
from core.plugins import PluginHost
from core.secrets import SecretBox
from core.store import Store
from core.store.tables import deliveries, subscriptions
from core.targets import Resolver, check_target_url, system_resolver


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(pysecrets.token_bytes(24)).decode()


class Subscriptions:
    def __init__(self, *, store: Store, clock: Clock, secrets: SecretBox, plugins: PluginHost,
                 allow_loopback_targets: bool) -> None:
        self.store, self.clock, self.secrets, self.plugins = store, clock, secrets, plugins
        self.allow_loopback_targets = allow_loopback_targets
        self.resolver: Resolver = system_resolver
        """How target host names are resolved for the SSRF check; tests may replace it."""

    def subscribe(self, tenant_id: str, integration: str, *, event_type: str, target_url: str,
                  filters: Mapping[str, Any] | None = None, secret: str | None = None) -> tuple[Subscription, str]:
        """Add a target; returns it and its signing secret. Filters must name fields of the payload."""
        filters = self.check_filters(event_type, filters)
        url = check_target_url(target_url, allow_loopback=self.allow_loopback_targets,
                               resolver=self.resolver)
        secret = secret or new_signing_secret()
        sub = Subscription(id=new_id("sub"), tenant_id=tenant_id, integration=integration, event_type=event_type,
                           target_url=url, filters=filters, created_at=self.clock.now())
        with self.store.begin() as c:
            c.execute(subscriptions.insert().values(
                id=sub.id, tenant_id=tenant_id, integration=integration, event_type=event_type, target_url=url,
                secret=self.secrets.encrypt(secret), filters=filters, created_at=sub.created_at))
        return sub, secret

    def check_filters(self, event_type: str, filters: Mapping[str, Any] | None) -> dict[str, Any]:
        """``filters`` as a dict if each names a field of ``event_type``'s payload with a plain value.

        The rule subscriptions are held to, for anything that filters the same way (e.g. trigger samples).
        """
        spec = self.plugins.catalogue.require(event_type)
        checked = dict(filters or {})
        known = {f.name for f in attrs.fields(spec.schema)}
        for key, value in checked.items():
            if key not in known:
                raise ValidationFailed(f"Unknown filter {key!r} for {event_type}; filter on one of "
                                       f"{', '.join(sorted(known))}.", code="filter_unknown")
            if not isinstance(value, str | int | bool):
                raise ValidationFailed(f"Filter {key!r} must be a string, number or boolean.", code="filter_invalid")
        return checked

    def unsubscribe(self, tenant_id: str, subscription_id: str, *, integration: str | None = None) -> bool:
        """Remove a subscription of this tenant (and ``integration``, if given); True if it existed.
        Pending deliveries are cancelled."""
        where = [subscriptions.c.id == subscription_id, subscriptions.c.tenant_id == tenant_id]
        if integration is not None:
            where.append(subscriptions.c.integration == integration)
        with self.store.begin() as c:
            gone = c.execute(subscriptions.delete().where(*where)).rowcount
            if gone:
                c.execute(deliveries.update().where(deliveries.c.subscription_id == subscription_id,
                                                    deliveries.c.status == "pending").values(
                    status="cancelled", last_error="subscription removed"))
        return bool(gone)

    def get(self, tenant_id: str, subscription_id: str, *, integration: str | None = None) -> Subscription:
        stmt = select(subscriptions).where(subscriptions.c.id == subscription_id,
                                           subscriptions.c.tenant_id == tenant_id)
        if integration is not None:
            stmt = stmt.where(subscriptions.c.integration == integration)
        with self.store.read() as c:
            row = c.execute(stmt).first()
        if row is None:
            raise NotFound(f"No subscription {subscription_id!r} for this site.", code="subscription_not_found")
        return subscription_from_row(row)

    def list(self, tenant_id: str, *, integration: str | None = None) -> list[Subscription]:
        stmt = select(subscriptions).where(subscriptions.c.tenant_id == tenant_id).order_by(
            subscriptions.c.created_at, subscriptions.c.id)
        if integration is not None:
            stmt = stmt.where(subscriptions.c.integration == integration)
        with self.store.read() as c:
            return [subscription_from_row(r) for r in c.execute(stmt)]

    def remove_all(self, tenant_id: str, integration: str) -> int:
        removed = 0
        for sub in self.list(tenant_id, integration=integration):
            removed += self.unsubscribe(tenant_id, sub.id, integration=integration)
        return removed
