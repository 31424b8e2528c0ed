"""Connecting Zapier means having an API key: the connection's state follows the site's keys.

An API key is shown once, when it is created, so it is never part of a connection (whose
``data`` is plain and shown on the page). Instead:

* ``zapier keys create`` / ``POST /api/zapier/keys`` create a key, return it that once, and
  record the Zapier connection as connected;
* the settings page's Connect makes the connection right away; until a key exists its state is
  ``action_required`` ("create an API key"), so no key is ever created that nobody can see;
* status counts active keys and Zap subscriptions; disconnect revokes every key and removes
  every subscription.
"""

from __future__ import annotations

from collections import Counter

from core import (
    ApiKey,
    Connected,
    ConnectionState,
    ConnectionStatus,
    Host,
    IntegrationContext,
    Tenant,
)
from plugins.zapier.info import NAME


def zapier_status(host: Host, tenant_id: str) -> ConnectionStatus:
    keys = host.api_keys.list(tenant_id, integration=NAME)
    subs = host.subscriptions.list(tenant_id, integration=NAME)
    details = {"api_keys": len(keys), "subscriptions": len(subs),
               "events": dict(sorted(Counter(s.event_type for s in subs).items()))}
    if not keys:
        return ConnectionStatus(state=ConnectionState.ACTION_REQUIRED, details=details,
                                reason="Create an API key (Settings > Integrations > Zapier, or `intellectra-"
                                       "integrations zapier keys create`) and paste it into Zapier when you "
                                       "connect your Intellectra account there.")
    zaps = f"{len(subs)} active Zap trigger{'s' if len(subs) != 1 else ''}"
    reason = f"{len(keys)} API key{'s' if len(keys) != 1 else ''}, {zaps}."
    return ConnectionStatus(state=ConnectionState.CONNECTED, reason=reason, details=details)


def sync_connection(host: Host, tenant: Tenant, *, actor: str) -> None:
    """Make the stored connection reflect the keys: connect on the first key, re-check after changes."""
    connection = host.connections.find(tenant.id, NAME)
    if connection is None or not connection.is_active:
        if host.api_keys.list(tenant.id, integration=NAME):
            host.connect(tenant, NAME, actor=actor)
        return
    host.status(tenant, NAME)


def create_key(host: Host, tenant: Tenant, *, label: str = "", actor: str) -> tuple[ApiKey, str]:
    """Create an API key (the plaintext is returned this once) and mark Zapier connected."""
    key, plaintext = host.api_keys.create(tenant.id, NAME, label=label or "Zapier", actor=actor)
    sync_connection(host, tenant, actor=actor)
    return key, plaintext


def revoke_key(host: Host, key_id: str, *, tenant_id: str | None, actor: str) -> ApiKey:
    """Revoke a Zapier key (idempotent); with ``tenant_id`` only that site's."""
    key = host.api_keys.revoke(key_id, tenant_id=tenant_id, integration=NAME, actor=actor)
    if key.integration == NAME:
        host.rate_limits.forget(NAME, key.id)
        sync_connection(host, host.tenants.get(key.tenant_id), actor=actor)
    return key


# hooks ---------------------------------------------------------------------------------------
def connect(ctx: IntegrationContext, tenant: Tenant) -> Connected:
    return Connected(data={"connected_via": "api_key"}, status=zapier_status(ctx.host, tenant.id))


def status(ctx: IntegrationContext, tenant: Tenant) -> ConnectionStatus:
    return zapier_status(ctx.host, tenant.id)


def disconnect(ctx: IntegrationContext, tenant: Tenant) -> None:
    """Revoke every key and remove every Zap subscription: Zapier's next call gets 401."""
    for key in ctx.host.api_keys.list(tenant.id, integration=NAME):
        ctx.host.rate_limits.forget(NAME, key.id)
    ctx.host.api_keys.revoke_all(tenant.id, NAME, actor="disconnect")
    ctx.host.subscriptions.remove_all(tenant.id, NAME)


def diagnostics(ctx: IntegrationContext, tenant: Tenant) -> dict[str, object]:
    keys = ctx.host.api_keys.list(tenant.id, integration=NAME, include_revoked=True)
    last_used = max((k.last_used_at for k in keys if k.last_used_at), default=None)
    return {**zapier_status(ctx.host, tenant.id).details,
            "revoked_api_keys": sum(1 for k in keys if k.revoked_at is not None),
            "last_key_use": last_used.isoformat() if last_used else None}
