"""The connect flow: Connect → (provider) → callback → connected; and disconnect and status.

Connect states are single-use, expiring and bound to the tenant that started them. Only the
state's SHA-256 is stored; the plugin's ``state_data`` is encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs
from sqlalchemy import select

from core.clock import Clock
from core.connections import Connections
from core.effects import ContextFactory, apply_effects
from core.errors import ConnectStateError, IntellectraError, NotConnected, PluginError, ValidationFailed
from core.ids import new_token, token_hash
from core.models import Capability, Connected, Connection, ConnectionState, ConnectionStatus, Redirect, Tenant
from core.plugins import PluginHost
from core.secrets import SecretBox
from core.store import Store
from core.store.tables import connect_states

STATE_TTL = timedelta(minutes=10)


@attrs.frozen(kw_only=True)
class ConnectOutcome:
    """Either where to send the creator next, or the connection that was made."""

    redirect_url: str | None = None
    connection: Connection | None = None


class ConnectFlow:
    def __init__(self, *, store: Store, clock: Clock, secrets: SecretBox, plugins: PluginHost,
                 connections: Connections, contexts: ContextFactory) -> None:
        self.store, self.clock, self.secrets, self.plugins = store, clock, secrets, plugins
        self.connections, self.contexts = connections, contexts

    def start(self, tenant: Tenant, integration: str, form: Mapping[str, str], *, base_url: str,
              actor: str) -> ConnectOutcome:
        record = self.plugins.get(integration)
        assert record.info is not None
        if Capability.CONNECT not in record.info.capabilities:
            raise ValidationFailed(f"{record.info.title} is not connected this way.", code="connect_unsupported")
        clean = self._check_form(record.info, form)
        state = new_token("cst", 24)
        existing = self.connections.find(tenant.id, integration)
        ctx = self.contexts(integration, tenant=tenant, connection=existing, base_url=base_url)
        result = self.plugins.call(integration, "connect", ctx=ctx, tenant=tenant, form=clean, state=state)
        return self._finish(tenant, integration, result, state, actor=actor)

    def complete(self, tenant: Tenant, integration: str, params: Mapping[str, str], *, base_url: str,
                 actor: str) -> ConnectOutcome:
        self.plugins.get(integration)
        state = params.get("state") or ""
        state_data = self._consume_state(tenant, integration, state)
        existing = self.connections.find(tenant.id, integration)
        ctx = self.contexts(integration, tenant=tenant, connection=existing, base_url=base_url)
        next_state = new_token("cst", 24)  # the consumed state cannot be reused for a new Redirect
        result = self.plugins.call(integration, "complete_connect", ctx=ctx, tenant=tenant,
                                   params=dict(params), state_data=state_data, state=next_state)
        return self._finish(tenant, integration, result, next_state, actor=actor)

    def _finish(self, tenant: Tenant, integration: str, result: Any, state: str, *, actor: str) -> ConnectOutcome:
        if isinstance(result, Redirect):
            self._store_state(tenant, integration, state, result.state_data,
                              ttl=timedelta(seconds=result.state_ttl_seconds))
            return ConnectOutcome(redirect_url=result.url)
        if isinstance(result, Connected):
            return ConnectOutcome(connection=self.connections.save_connected(tenant, integration, result,
                                                                             actor=actor))
        raise PluginError(f"integration {integration!r} returned {type(result).__name__} from connect; "
                          "return core.Connected or core.Redirect", http_status=502)

    @staticmethod
    def _check_form(info: Any, form: Mapping[str, str]) -> dict[str, str]:
        clean: dict[str, str] = {}
        missing = []
        for field in info.connect_fields:
            value = str(form.get(field.name, "") or "").strip()
            if field.required and not value:
                missing.append(field.label)
            if value and field.choices and value not in {c.value for c in field.choices}:
                raise ValidationFailed(f"{field.label}: choose one of {', '.join(c.label for c in field.choices)}.",
                                       code="connect_field_invalid")
            if value:
                clean[field.name] = value
        if missing:
            raise ValidationFailed(f"Fill in {', '.join(missing)} to connect {info.title}.",
                                   code="connect_field_missing")
        options = [o.name for o in info.connect_options]
        if options:
            option = str(form.get("option") or options[0])
            if option not in options:
                raise ValidationFailed(f"Unknown way to connect {info.title}: {option!r}; choose one of "
                                       f"{', '.join(options)}.", code="connect_option_invalid")
            clean["option"] = option
        return clean

    # ------------------------------------------------------------------ states
    def _store_state(self, tenant: Tenant, integration: str, state: str, data: Mapping[str, Any], *,
                     ttl: timedelta = STATE_TTL) -> None:
        now = self.clock.now()
        with self.store.begin() as c:
            c.execute(connect_states.insert().values(
                id=token_hash(state), tenant_id=tenant.id, integration=integration,
                data=self.secrets.encrypt_json(data), created_at=now, expires_at=now + ttl))

    def _consume_state(self, tenant: Tenant, integration: str, state: str) -> dict[str, Any]:
        """Use up ``state`` atomically; every way it can be wrong gets its own message."""
        restart = "Start again from Settings > Integrations."
        if not state:
            raise ConnectStateError(f"The link you came back with has no connect state. {restart}",
                                    code="connect_state_missing")
        now = self.clock.now()
        key = token_hash(state)
        with self.store.begin() as c:
            row = c.execute(select(connect_states).where(connect_states.c.id == key)).first()
            if row is None or row.integration != integration:
                raise ConnectStateError(f"This connect link is not one we issued (unknown state). {restart}",
                                        code="connect_state_unknown")
            if row.tenant_id != tenant.id:
                raise ConnectStateError(f"This connect link was started by another site's account. Sign in to "
                                        f"the site that started it, or {restart[0].lower()}{restart[1:]}",
                                        code="connect_state_other_tenant", http_status=403)
            if row.used_at is not None:
                raise ConnectStateError(f"This connect link was already used. {restart}",
                                        code="connect_state_used")
            if row.expires_at <= now:
                minutes = int((row.expires_at - row.created_at).total_seconds() // 60)
                raise ConnectStateError(f"This connect link expired (it lasted {minutes} minutes). {restart}",
                                        code="connect_state_expired")
            used = c.execute(connect_states.update().where(connect_states.c.id == key,
                                                           connect_states.c.used_at.is_(None)).values(used_at=now))
            if used.rowcount != 1:  # a concurrent callback consumed it first
                raise ConnectStateError(f"This connect link was already used. {restart}", code="connect_state_used")
        return self.secrets.decrypt_json(row.data)

    # ------------------------------------------------------------------ disconnect / status
    def disconnect(self, tenant: Tenant, integration: str, *, actor: str, base_url: str = "") -> Connection | None:
        """Disconnect (idempotent): the provider is asked to revoke, then the host forgets credentials."""
        record = self.plugins.get(integration)
        connection = self.connections.find(tenant.id, integration)
        if connection is None or connection.state == ConnectionState.DISCONNECTED:
            return connection
        reason = "Disconnected by the creator."
        ctx = self.contexts(integration, tenant=tenant, connection=connection, base_url=base_url)
        try:
            self.plugins.call(integration, "disconnect", ctx=ctx, tenant=tenant, connection=connection)
        except IntellectraError as exc:  # any refusal: the host still disconnects locally (see the hookspec)
            title = record.info.title if record.info else integration
            reason = f"Disconnected here; {title} reported: {exc.message}"
        with self.store.begin() as c:
            return self.connections.mark_disconnected(c, connection, reason, actor=actor)

    def status(self, tenant: Tenant, integration: str, *, refresh: bool, base_url: str = "") -> Connection:
        record = self.plugins.get(integration)
        connection = self.connections.find(tenant.id, integration)
        if connection is None:
            title = record.info.title if record.info else integration
            raise NotConnected(f"{title} is not connected for this site yet; connect it under Settings > "
                               "Integrations.")
        if not connection.is_active or not self.plugins.implements(integration, "status"):
            return connection
        ctx = self.contexts(integration, tenant=tenant, connection=connection, base_url=base_url)
        try:
            status = self.plugins.call(integration, "status", ctx=ctx, tenant=tenant, connection=connection,
                                       refresh=refresh)
        except PluginError as exc:
            status = ConnectionStatus(state=ConnectionState.ERROR, reason=exc.message)
        if not isinstance(status, ConnectionStatus):
            return connection
        if status.state == ConnectionState.DISCONNECTED:  # the provider ended it: forget it properly
            ctx.mark_disconnected(status.reason or "The provider ended the connection.")
        elif status.state == ConnectionState.PENDING:  # a made connection cannot go back to pending
            status = ConnectionStatus(state=ConnectionState.ERROR, reason=(
                f"The {integration} integration reported the connection as pending; reconnect it."))
        if not ctx.effects.disconnected_reason:
            ctx.set_status(status)
        with self.store.begin() as c:
            updated = apply_effects(self, c, tenant_id=tenant.id, integration=integration,
                                    connection=connection, effects=ctx.effects, actor="status")
        return updated or connection
