"""Connections: reading them never waits for a writer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from core import Connected, IntegrationInfo, hookimpl


class Direct:
    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="direct", title="Direct", description="Connects at once.")

    @hookimpl
    def connect(self, ctx, tenant, form, state):
        return Connected(external_id="acct_d")


def test_reading_a_connection_does_not_wait_for_a_writer(make_host):
    """``find`` and ``tenants.get`` without a caller's transaction are reads: on SQLite they must not
    take the write lock (BEGIN IMMEDIATE), or the settings page and every API-key request queue behind
    the workers' commits for up to the 30 s busy timeout."""
    host = make_host(plugins={"direct": Direct()})
    tenant, _ = host.tenants.create("Site")
    host.connect(tenant, "direct", {})
    writer = host.store.engine.connect()
    writer.begin()  # holds the write lock (SQLite: BEGIN IMMEDIATE) until rolled back
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        found = pool.submit(host.connections.find, tenant.id, "direct").result(timeout=5)
        got = pool.submit(host.tenants.get, tenant.id).result(timeout=5)
    finally:
        writer.rollback()  # releases a reader that is (wrongly) waiting, so the pool can finish
        writer.close()
        pool.shutdown()
    assert found is not None and found.external_id == "acct_d"
    assert got.id == tenant.id
