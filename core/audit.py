"""The audit log: who connected or disconnected what, and when. Rows are never updated or deleted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from core.clock import Clock
from core.ids import new_id
from core.models import AuditEntry
from core.store.tables import audit_log


def write_audit(conn: Connection, clock: Clock, *, action: str, actor: str, tenant_id: str | None,
                integration: str | None, detail: Mapping[str, Any] | None = None) -> None:
    conn.execute(audit_log.insert().values(
        id=new_id("aud"), tenant_id=tenant_id, integration=integration, action=action, actor=actor,
        detail=dict(detail or {}), created_at=clock.now()))


def list_audit(conn: Connection, *, tenant_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
    stmt = select(audit_log).order_by(audit_log.c.created_at.desc(), audit_log.c.id.desc()).limit(limit)
    if tenant_id is not None:
        stmt = stmt.where(audit_log.c.tenant_id == tenant_id)
    return [AuditEntry(id=r.id, tenant_id=r.tenant_id, integration=r.integration, action=r.action, actor=r.actor,
                       detail=r.detail, created_at=r.created_at) for r in conn.execute(stmt)]
