"""Tenants (creators' sites) and their API bearer tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.ids import new_id, new_token, token_hash
from core.models import Tenant
from core.store import Store
from core.store.tables import tenants


def tenant_from_row(row: Any) -> Tenant:
    return Tenant(id=row.id, name=row.name, created_at=row.created_at)


class Tenants:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def create(self, name: str, *, conn: Connection | None = None, tenant_id: str | None = None) -> tuple[Tenant, str]:
        """Create a tenant; returns it and its API bearer token (shown once, stored hashed)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationFailed("A tenant needs a name of 1 to 200 characters.", code="tenant_name_invalid")
        token = new_token("itk")
        tenant = Tenant(id=tenant_id or new_id("tn"), name=name, created_at=self.clock.now())
        with self.store.begin(conn) as c:
            c.execute(tenants.insert().values(id=tenant.id, name=tenant.name, token_hash=token_hash(token),
                                              created_at=tenant.created_at))
        return tenant, token

    def get(self, tenant_id: str, *, conn: Connection | None = None) -> Tenant:
        """The tenant with this id (in ``conn``'s transaction when given); ``NotFound`` if there is none."""
        with self.store.read_in(conn) as c:
            row = c.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        if row is None:
            raise NotFound(f"No tenant with id {tenant_id!r}; list them with `intellectra-integrations tenants list`.",
                           code="tenant_not_found")
        return tenant_from_row(row)

    def find(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, or ``None``."""
        with self.store.read() as c:
            row = c.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return tenant_from_row(row) if row else None

    def list(self) -> list[Tenant]:
        with self.store.read() as c:
            rows = c.execute(select(tenants).order_by(tenants.c.created_at, tenants.c.id)).all()
        return [tenant_from_row(r) for r in rows]

    def by_token(self, token: str) -> Tenant | None:
        """The tenant a bearer token belongs to (hash lookup; the token itself is never stored)."""
        with self.store.read() as c:
            row = c.execute(select(tenants).where(tenants.c.token_hash == token_hash(token))).first()
        return tenant_from_row(row) if row else None

    def rotate_token(self, tenant_id: str) -> str:
        token = new_token("itk")
        with self.store.begin() as c:
            result = c.execute(tenants.update().where(tenants.c.id == tenant_id).values(token_hash=token_hash(token)))
            if result.rowcount == 0:
                raise NotFound(f"No tenant with id {tenant_id!r}.", code="tenant_not_found")
        return token


class TenantLookup:
    """Read-only tenants, for the ``resolve_tenant`` hook: find one by id or by API bearer token."""

    def __init__(self, tenants: Tenants) -> None:
        self._tenants = tenants

    def __repr__(self) -> str:
        return "<TenantLookup>"

    def find(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, or ``None``."""
        return self._tenants.find(tenant_id)

    def by_token(self, token: str) -> Tenant | None:
        """The tenant an API bearer token (from ``tenants create``) belongs to, or ``None``."""
        return self._tenants.by_token(token)
