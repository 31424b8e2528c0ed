"""API keys: authenticating one is a single lookup on the hot path."""

from __future__ import annotations

from sqlalchemy import event

from core import Capability, IntegrationInfo, hookimpl


class Keyed:
    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="keyed", title="Keyed", description="Uses API keys.",
                               capabilities={Capability.API_KEYS})


def test_authenticating_a_key_is_one_query_and_returns_its_tenant(make_host):
    host = make_host(plugins={"keyed": Keyed()})
    tenant, _ = host.tenants.create("Site")
    _, plaintext = host.api_keys.create(tenant.id, "keyed")
    assert host.api_keys.authenticate(plaintext, "keyed") is not None  # first use records last_used_at
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
            statements.append(statement)

    event.listen(host.store.engine, "before_cursor_execute", count)
    try:
        found, key = host.api_keys.authenticate(plaintext, "keyed")
    finally:
        event.remove(host.store.engine, "before_cursor_execute", count)
    assert found == tenant
    assert key.tenant_id == tenant.id
    assert len(statements) == 1, statements
