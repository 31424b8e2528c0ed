"""API keys: shown once at creation, stored as SHA-256, compared in constant time, revocable."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.audit import write_audit
from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.ids import new_id, new_token, token_hash
from core.models import ApiKey, Tenant
from core.redact import register_secret
from core.store import Store
from core.store.tables import api_keys
from core.tenants import Tenants

KEY_PREFIX = "ik"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write on every request


def api_key_from_row(row: Any) -> ApiKey:
    return ApiKey(id=row.id, tenant_id=row.tenant_id, integration=row.integration, label=row.label,
                  prefix=row.prefix, created_at=row.created_at, last_used_at=row.last_used_at,
                  revoked_at=row.revoked_at)


class ApiKeys:
    def __init__(self, *, store: Store, clock: Clock, tenants: Tenants) -> None:
        self.store, self.clock, self.tenants = store, clock, tenants

    def create(self, tenant_id: str, integration: str, *, label: str = "", actor: str = "system") -> tuple[ApiKey, str]:
        """Create a key; the plaintext is returned this once and never again."""
        label = (label or f"{integration} key").strip()
        if len(label) > 200:
            raise ValidationFailed("An API key label has at most 200 characters.", code="label_too_long")
        self.tenants.get(tenant_id)
        plaintext = new_token(KEY_PREFIX, 32)
        register_secret(plaintext)
        now = self.clock.now()
        key = ApiKey(id=new_id("key"), tenant_id=tenant_id, integration=integration, label=label,
                     prefix=plaintext[:10], created_at=now)
        with self.store.begin() as c:
            c.execute(api_keys.insert().values(id=key.id, tenant_id=tenant_id, integration=integration, label=label,
                                               prefix=key.prefix, key_hash=token_hash(plaintext), created_at=now))
            write_audit(c, self.clock, action="api_key_created", actor=actor, tenant_id=tenant_id,
                        integration=integration, detail={"key_id": key.id, "label": label})
        return key, plaintext

    def authenticate(self, plaintext: str, integration: str) -> tuple[Tenant, ApiKey] | None:
        """The tenant and key for a presented key, or None (unknown, revoked, other integration)."""
        if not plaintext or len(plaintext) > 200:
            return None
        digest = token_hash(plaintext)
        from core.store.tables import tenants

        with self.store.read() as c:
            row = c.execute(select(api_keys, tenants.c.name.label("tenant_name"),
                                   tenants.c.created_at.label("tenant_created_at"))
                            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
                            .where(api_keys.c.key_hash == digest)).first()
        # The lookup is by hash; compare again in constant time so timing says nothing about near-misses.
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        if row.revoked_at is not None or row.integration != integration:
            return None
        now = self.clock.now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            with self.store.begin() as c:
                c.execute(api_keys.update().where(api_keys.c.id == row.id).values(last_used_at=now))
        tenant = Tenant(id=row.tenant_id, name=row.tenant_name, created_at=row.tenant_created_at)
        return tenant, api_key_from_row(row)

    def list(self, tenant_id: str, *, integration: str | None = None, include_revoked: bool = False) -> list[ApiKey]:
        stmt = select(api_keys).where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.created_at)
        if integration is not None:
            stmt = stmt.where(api_keys.c.integration == integration)
        if not include_revoked:
            stmt = stmt.where(api_keys.c.revoked_at.is_(None))
        with self.store.read() as c:
            return [api_key_from_row(r) for r in c.execute(stmt)]

    def revoke(self, key_id: str, *, tenant_id: str | None = None, integration: str | None = None,
               actor: str = "system") -> ApiKey:
        """Revoke a key (idempotent). With ``tenant_id`` / ``integration``, only a key of that tenant /
        integration: an integration's own revoke command can never revoke another integration's key."""
        with self.store.begin() as c:
            stmt = select(api_keys).where(api_keys.c.id == key_id)
            if tenant_id is not None:
                stmt = stmt.where(api_keys.c.tenant_id == tenant_id)
            if integration is not None:
                stmt = stmt.where(api_keys.c.integration == integration)
            row = c.execute(stmt).first()
            if row is None:
                scope = " ".join(filter(None, [integration, "API key"]))
                raise NotFound(f"No {scope} {key_id!r}" + (" for this site." if tenant_id else "."),
                               code="api_key_not_found")
            if row.revoked_at is None:
                c.execute(api_keys.update().where(api_keys.c.id == key_id).values(revoked_at=self.clock.now()))
                write_audit(c, self.clock, action="api_key_revoked", actor=actor, tenant_id=row.tenant_id,
                            integration=row.integration, detail={"key_id": key_id})
            row = c.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        return api_key_from_row(row)

    def revoke_all(self, tenant_id: str, integration: str, *, actor: str = "system") -> int:
        keys = self.list(tenant_id, integration=integration)
        for key in keys:
            self.revoke(key.id, tenant_id=tenant_id, integration=integration, actor=actor)
        return len(keys)


