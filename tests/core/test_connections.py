"""Connections: reading them never waits for a writer; concurrent writers never lose each other's changes."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from core import (
    Capability,
    Connected,
    ConnectionState,
    ConnectionStatus,
    InboundEvent,
    IntegrationInfo,
    hookimpl,
)
from core.context import Effects
from core.effects import apply_effects
from core.store.tables import connections


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


# ---------------------------------------------------------------- no lost updates

class Racer:
    """A provider whose status check waits for the test (so a worker can write in between) and whose
    webhooks report payouts; both write to ``connection.data``."""

    def __init__(self) -> None:
        self.checking = threading.Event()
        self.answer = threading.Event()

    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="racer", title="Racer", description="Status and webhooks write one row.",
                               capabilities={Capability.CONNECT, Capability.STATUS, Capability.WEBHOOKS})

    @hookimpl
    def connect(self, ctx, tenant, form, state):
        return Connected(external_id="acct_r", data={"plan": "basic"})

    @hookimpl
    def status(self, ctx, tenant, connection, refresh):
        self.checking.set()
        assert self.answer.wait(10), "the test never let the status check answer"
        ctx.update_data(checked="by the status refresh")
        return ConnectionStatus(state=ConnectionState.ACTION_REQUIRED, reason="Verify your identity.")

    @hookimpl
    def verify_webhook(self, request):
        payload = json.loads(request.body)
        return [InboundEvent(external_id=payload["id"], type="payouts.enabled", payload=payload,
                             account="acct_r")]

    @hookimpl
    def handle_event(self, ctx, event):
        ctx.update_data(payouts="enabled by the worker")


def test_a_status_refresh_racing_a_worker_update_keeps_both(make_host):
    """The refresh read the connection before the worker wrote to it and writes after: the worker's
    detail must survive the refresh's write (and the refresh's must land too)."""
    plugin = Racer()
    host = make_host(plugins={"racer": plugin})
    tenant, _ = host.tenants.create("Site")
    host.connect(tenant, "racer", {})
    with ThreadPoolExecutor(max_workers=1) as pool:
        refresh = pool.submit(host.status, tenant, "racer", refresh=True)
        assert plugin.checking.wait(10)
        host.pipeline.intake.receive_sync("racer", b'{"id": "evt_payouts"}', {"content-type": "application/json"})
        assert host.pipeline.processor.drain().processed == 1
        plugin.answer.set()
        refreshed = refresh.result(timeout=30)
    stored = host.connections.find(tenant.id, "racer")
    assert stored is not None
    assert dict(stored.data) == {"plan": "basic", "payouts": "enabled by the worker",
                                 "checked": "by the status refresh"}
    assert stored.state is ConnectionState.ACTION_REQUIRED
    assert refreshed.data == stored.data


@pytest.mark.postgres_only  # SQLite lets one writer in at a time: nothing can commit inside the race
def test_a_write_that_lost_a_race_inside_its_transaction_is_merged_onto_the_winner(make_host):
    """Between a writer's read and its UPDATE another transaction commits a change to the same row
    (possible on PostgreSQL, where writers run side by side): the UPDATE must notice (the row's
    version moved), read the row again and apply its change on top, not overwrite the winner."""
    host = make_host(plugins={"racer": Racer()})
    tenant, _ = host.tenants.create("Site")
    connection = host.connect(tenant, "racer", {}).connection
    assert connection is not None
    raced = []

    def rival_commits_first(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE CONNECTIONS") and not raced:
            raced.append(True)
            with host.store.begin() as rival:
                host.connections.apply_status(rival, connection, None, {"payouts": "enabled"})

    event.listen(host.store.engine, "before_cursor_execute", rival_commits_first)
    try:
        with host.store.begin() as c:
            host.connections.apply_status(c, connection, None, {"checked": "yes"})
    finally:
        event.remove(host.store.engine, "before_cursor_execute", rival_commits_first)
    stored = host.connections.find(tenant.id, "racer")
    assert raced and stored is not None
    assert dict(stored.data) == {"plan": "basic", "payouts": "enabled", "checked": "yes"}


def test_a_change_of_detail_only_keeps_the_state_another_writer_set(make_host):
    """A hook that only updated ``data`` (no status) from an earlier view of the connection must not
    write that view's state back over a state change made meanwhile."""
    host = make_host(plugins={"racer": Racer()})
    tenant, _ = host.tenants.create("Site")
    earlier = host.connect(tenant, "racer", {}).connection
    assert earlier is not None and earlier.state is ConnectionState.CONNECTED
    with host.store.begin() as c:
        host.connections.apply_status(c, earlier, ConnectionStatus(state=ConnectionState.ACTION_REQUIRED,
                                                                   reason="Verify your identity."))
    with host.store.begin() as c:  # what a hook's ctx.update_data(checked="yes") becomes
        apply_effects(host, c, tenant_id=tenant.id, integration="racer", connection=earlier,
                      effects=Effects(data_updates={"checked": "yes"}), actor="racer")
    stored = host.connections.find(tenant.id, "racer")
    assert stored is not None
    assert (stored.state, stored.reason) == (ConnectionState.ACTION_REQUIRED, "Verify your identity.")
    assert stored.data["checked"] == "yes"


def test_a_refresh_that_finds_nothing_new_writes_nothing(make_host):
    """Reading a status is a read: the row (its version included) stays as it was."""
    host = make_host(plugins={"racer": Racer()})
    tenant, _ = host.tenants.create("Site")
    connection = host.connect(tenant, "racer", {}).connection
    assert connection is not None

    def row():
        with host.store.read() as c:
            return c.execute(select(connections).where(connections.c.id == connection.id)).one()

    before = row()
    with host.store.begin() as c:
        host.connections.apply_status(c, connection, connection.status, {"plan": "basic"})
    assert row() == before
