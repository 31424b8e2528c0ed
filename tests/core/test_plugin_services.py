"""The plugin context's services: everything a plugin may do, and only to its own integration's data.

Two plugins share a host; whatever ids one of them passes, its context never reads or changes the
other's API keys, subscriptions, rate-limit buckets, deliveries or connections, nor (when bound to a
site) another site's.
"""

from __future__ import annotations

import pytest

from core import (
    Capability,
    Connected,
    ConnectionState,
    ConnectionStatus,
    InboundEvent,
    IntegrationContext,
    IntegrationInfo,
    NotFound,
    PluginError,
    hookimpl,
)

TARGET = "http://127.0.0.1:9/hooks/sales"
SALE = {"offer_id": "price_1", "offer_title": "Watercolour basics", "amount": 4900, "currency": "usd",
        "buyer_email": "buyer@example.com", "provider": "acme"}


class Tiny:
    """An integration that connects at once and reports how many keys the site has."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name=self.name, title=self.name.title(), description="For plugin service tests.",
                               capabilities={Capability.CONNECT, Capability.STATUS, Capability.API_KEYS})

    @hookimpl
    def connect(self, ctx):
        return Connected(external_id=f"{self.name}-{ctx.tenant.id}")

    @hookimpl
    def status(self, ctx):
        keys = len(ctx.api_keys.list())
        return ConnectionStatus(state=ConnectionState.CONNECTED, reason=f"{keys} key(s)")


@pytest.fixture
def host(make_host):
    return make_host(plugins={"alpha": Tiny("alpha"), "beta": Tiny("beta")})


@pytest.fixture
def sites(host):
    return host.tenants.create("Ada's Studio")[0], host.tenants.create("Grace's Shop")[0]


def context(host, name: str, tenant=None) -> IntegrationContext:
    ctx = host.context(name)
    return ctx.for_tenant(tenant) if tenant is not None else ctx


def test_a_context_offers_no_host(host, sites):
    ctx = context(host, "alpha", sites[0])
    assert not hasattr(ctx, "host")
    assert "Host" not in repr(ctx) and "alpha" in repr(ctx)


def test_another_integrations_api_keys_are_out_of_reach(host, sites):
    ada, _ = sites
    beta_key, beta_plaintext = context(host, "beta", ada).api_keys.create(label="Beta")
    alpha = context(host, "alpha", ada)

    with pytest.raises(NotFound):
        alpha.api_keys.revoke(beta_key.id)
    assert alpha.api_keys.authenticate(beta_plaintext) is None
    assert host.context("alpha").api_keys.authenticate(beta_plaintext) is None
    assert alpha.api_keys.list(include_revoked=True) == []
    assert alpha.api_keys.revoke_all() == 0
    assert [k.revoked_at for k in context(host, "beta", ada).api_keys.list()] == [None]


def test_a_site_context_cannot_touch_another_sites_keys(host, sites):
    ada, grace = sites
    grace_key, grace_plaintext = context(host, "alpha", grace).api_keys.create(label="Grace")
    ada_ctx = context(host, "alpha", ada)

    with pytest.raises(NotFound):
        ada_ctx.api_keys.revoke(grace_key.id)
    assert ada_ctx.api_keys.authenticate(grace_plaintext) is None
    tenant, key = host.context("alpha").api_keys.authenticate(grace_plaintext)  # unbound: any site's key
    assert (tenant.id, key.id) == (grace.id, grace_key.id)


def test_a_created_key_is_returned_once_and_then_listed_without_it(host, sites):
    ctx = context(host, "alpha", sites[0])
    key, plaintext = ctx.api_keys.create(label="Zaps", actor="tenant:test")
    (listed,) = ctx.api_keys.list()
    assert listed.id == key.id and listed.integration == "alpha"
    assert plaintext.startswith(listed.prefix) and plaintext not in repr(listed)
    assert ctx.api_keys.authenticate(plaintext)[1].id == key.id
    assert ctx.api_keys.revoke(key.id).revoked_at is not None
    assert ctx.api_keys.authenticate(plaintext) is None


def test_another_integrations_subscriptions_are_out_of_reach(host, sites):
    ada, _ = sites
    beta = context(host, "beta", ada)
    sub, _secret = beta.subscriptions.subscribe(event_type="purchase.completed", target_url=TARGET)
    alpha = context(host, "alpha", ada)

    with pytest.raises(NotFound):
        alpha.subscriptions.get(sub.id)
    assert alpha.subscriptions.unsubscribe(sub.id) is False
    assert alpha.subscriptions.remove_all() == 0
    assert alpha.subscriptions.list() == []
    assert [s.id for s in beta.subscriptions.list()] == [sub.id]
    assert beta.subscriptions.get(sub.id).integration == "beta"


def test_a_site_context_cannot_touch_another_sites_subscriptions(host, sites):
    ada, grace = sites
    sub, _ = context(host, "alpha", grace).subscriptions.subscribe(event_type="purchase.completed",
                                                                   target_url=TARGET)
    ada_ctx = context(host, "alpha", ada)
    with pytest.raises(NotFound):
        ada_ctx.subscriptions.get(sub.id)
    assert ada_ctx.subscriptions.unsubscribe(sub.id) is False
    assert context(host, "alpha", grace).subscriptions.unsubscribe(sub.id) is True


def test_rate_limit_buckets_belong_to_their_integration(host):
    alpha, beta = host.context("alpha"), host.context("beta")
    assert alpha.rate_limits.hit("key_1", per_minute=1) == 0
    assert alpha.rate_limits.hit("key_1", per_minute=1) > 0
    assert beta.rate_limits.hit("key_1", per_minute=1) == 0  # the same key in another integration: its own bucket
    alpha.rate_limits.forget("key_1")
    assert alpha.rate_limits.hit("key_1", per_minute=1) == 0
    assert beta.rate_limits.hit("key_1", per_minute=1) > 0  # forgetting alpha's left beta's alone


def test_deliveries_are_the_integrations_own_for_the_site(host, sites):
    ada, grace = sites
    for name, site in (("alpha", ada), ("beta", ada), ("alpha", grace)):
        context(host, name, site).subscriptions.subscribe(event_type="purchase.completed", target_url=TARGET)
    host.emit(ada.id, "purchase.completed", SALE)
    host.emit(grace.id, "purchase.completed", SALE)

    (mine,) = context(host, "alpha", ada).deliveries.recent()
    assert (mine.integration, mine.tenant_id, mine.event_type) == ("alpha", ada.id, "purchase.completed")
    assert context(host, "alpha", ada).deliveries.recent(status="delivered") == []


def test_connections_are_the_integrations_own(host, sites):
    ada, grace = sites
    host.connect(ada, "alpha")
    host.connect(ada, "beta")
    host.connect(grace, "alpha")
    alpha = host.context("alpha")

    assert sorted((c.integration, c.tenant_id) for c in alpha.connections.list()) == sorted(
        [("alpha", ada.id), ("alpha", grace.id)])
    assert alpha.connections.find(ada.id).external_id == f"alpha-{ada.id}"
    assert [c.tenant_id for c in context(host, "alpha", ada).connections.list()] == [ada.id]
    assert context(host, "alpha", ada).connections.find(grace.id) is None


def test_a_plugin_connects_a_site_itself_and_rechecks_its_status(host, sites):
    ada, _ = sites
    ctx = context(host, "alpha", ada)
    assert ctx.connections.connect(actor="test").state is ConnectionState.CONNECTED
    ctx.api_keys.create()
    rechecked = ctx.connections.recheck()
    assert (rechecked.state, rechecked.reason) == (ConnectionState.CONNECTED, "1 key(s)")


def test_missed_events_are_stored_once_for_the_integration(host, recorder):
    ctx = host.context("alpha")
    events = [InboundEvent(external_id=f"evt_{i}", type="sale.succeeded", account="acct_1", payload={"i": i})
              for i in range(2)]

    first = ctx.store_missed_events(events)
    again = ctx.store_missed_events(events)

    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (0, 2)
    assert {r.integration for r in recorder.inbound_events()} == {"alpha"}


def test_domain_event_samples_are_the_sites_own(host, sites):
    ada, grace = sites
    host.emit(grace.id, "purchase.completed", SALE)
    ada_ctx = context(host, "alpha", ada)
    assert ada_ctx.domain_events.recent("purchase.completed") == []
    example = ada_ctx.domain_events.example("purchase.completed")
    assert example["tenant_id"] == ada.id and example["type"] == "purchase.completed"
    (grace_sale,) = context(host, "alpha", grace).domain_events.recent("purchase.completed")
    assert grace_sale["data"]["offer_title"] == "Watercolour basics"


def test_for_tenant_binds_the_site_and_its_connection(host, sites):
    ada, _ = sites
    host.connect(ada, "alpha")
    ctx = host.context("alpha").for_tenant(ada.id)
    assert ctx.tenant == ada and ctx.connection is not None and ctx.connection.tenant_id == ada.id
    assert host.context("alpha").find_tenant(ada.id) == ada
    assert host.context("alpha").find_tenant("tn_nope") is None
    with pytest.raises(NotFound, match="tn_nope"):
        host.context("alpha").for_tenant("tn_nope")


def test_services_that_act_for_a_site_need_a_context_bound_to_one(host):
    ctx = host.context("alpha")
    for call in (lambda: ctx.api_keys.create(), lambda: ctx.subscriptions.list(), lambda: ctx.deliveries.recent(),
                 lambda: ctx.perform_action("enroll_member", {})):
        with pytest.raises(PluginError, match="for_tenant") as raised:
            call()
        assert raised.value.code == "context_without_tenant"


def test_effects_work_only_where_a_hook_applies_them(host, sites):
    ctx = context(host, "alpha", sites[0])
    with pytest.raises(PluginError, match="only works in a hook call"):
        ctx.set_status(ConnectionStatus(state=ConnectionState.ERROR, reason="no"))
    with pytest.raises(PluginError, match="only works in a hook call"):
        ctx.deliver(to=TARGET, json={})



def test_the_event_catalogue_is_read_only_to_a_plugin(host):
    types = host.context("alpha").event_types
    assert "purchase.completed" in types and types.owner("purchase.completed") == "core"
    assert types.validate("purchase.completed", SALE)["amount"] == 4900
    assert not hasattr(types, "declare") and not hasattr(types, "withdraw")
