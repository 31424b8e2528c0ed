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

from core import ApiKey, Connected, ConnectionState, ConnectionStatus, IntegrationContext


def zapier_status(ctx: IntegrationContext) -> ConnectionStatus:
    """The state of the context's site: connected once it has an API key."""
    keys = ctx.api_keys.list()
    subs = ctx.subscriptions.list()
    details = {"api_keys": len(keys), "subscriptions": len(subs),
               "events": dict(sorted(Counter(s.event_type for s in subs).items()))}
    if not keys:
        return ConnectionStatus(state=ConnectionState.ACTION_REQUIRED, details=details,
                                reason="Create an API key here and paste it into Zapier when you connect your "
                                       "Intellectra account there.")
    zaps = f"{len(subs)} active Zap trigger{'s' if len(subs) != 1 else ''}"
    reason = f"{len(keys)} API key{'s' if len(keys) != 1 else ''}, {zaps}."
    return ConnectionStatus(state=ConnectionState.CONNECTED, reason=reason, details=details)


def sync_connection(ctx: IntegrationContext, *, actor: str) -> None:
    """Make the stored connection reflect the keys: connect on the first key, re-check after changes."""
    connection = ctx.connection
    if connection is None or not connection.is_active:
        if ctx.api_keys.list():
            ctx.connections.connect(actor=actor)
        return
    ctx.connections.recheck()


def create_key(ctx: IntegrationContext, *, label: str = "", actor: str) -> tuple[ApiKey, str]:
    """Create an API key for the context's site (the plaintext is returned this once) and mark Zapier
    connected."""
    key, plaintext = ctx.api_keys.create(label=label or "Zapier", actor=actor)
    sync_connection(ctx, actor=actor)
    return key, plaintext


def revoke_key(ctx: IntegrationContext, key_id: str, *, actor: str) -> ApiKey:
    """Revoke a Zapier key (idempotent); a context bound to a site revokes only that site's keys."""
    key = ctx.api_keys.revoke(key_id, actor=actor)
    ctx.rate_limits.forget(key.id)
    sync_connection(ctx.for_tenant(key.tenant_id), actor=actor)
    return key


# hooks ---------------------------------------------------------------------------------------
def connect(ctx: IntegrationContext) -> Connected:
    return Connected(data={"connected_via": "api_key"}, status=zapier_status(ctx))


def status(ctx: IntegrationContext) -> ConnectionStatus:
    return zapier_status(ctx)


def disconnect(ctx: IntegrationContext) -> None:
    """Revoke every key and remove every Zap subscription: Zapier's next call gets 401."""
    for key in ctx.api_keys.list():
        ctx.rate_limits.forget(key.id)
    ctx.api_keys.revoke_all(actor="disconnect")
    ctx.subscriptions.remove_all()


def diagnostics(ctx: IntegrationContext) -> dict[str, object]:
    keys = ctx.api_keys.list(include_revoked=True)
    last_used = max((k.last_used_at for k in keys if k.last_used_at), default=None)
    return {**zapier_status(ctx).details,
            "revoked_api_keys": sum(1 for k in keys if k.revoked_at is not None),
            "last_key_use": last_used.isoformat() if last_used else None}
