"""Each API key gets a configurable number of requests per minute; past it, 429 with Retry-After."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def zapier_config():
    return {"requests_per_minute": 2}


def test_a_key_over_its_limit_gets_429_with_retry_after(zapier):
    statuses = [zapier.get("/api/zapier/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = zapier.get("/api/zapier/me")
    assert limited.headers["retry-after"] == "30"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert "2 per minute" in limited.json()["error"]["message"]


def test_the_limit_is_per_key(make_site):
    ada, bob = make_site("Ada"), make_site("Bob")
    with ada.zapier() as a, bob.zapier() as b:
        for _ in range(3):
            a.get("/api/zapier/me")
        assert a.get("/api/zapier/me").status_code == 429
        assert b.get("/api/zapier/me").status_code == 200


def test_the_limit_refills_with_time(zapier, clock):
    for _ in range(3):
        zapier.get("/api/zapier/me")
    clock.advance(30)
    assert zapier.get("/api/zapier/me").status_code == 200


def test_the_limit_holds_across_serve_processes(site, zapier, zapier_host, make_host, host_app, live_server):
    """A second host on the same database stands for a second ``serve`` behind the load balancer."""
    import plugins.zapier as plugin
    from core.web.app import create_app

    second = make_host(plugins={"zapier": plugin}, config={"zapier": {"requests_per_minute": 2}})
    second.plugins.register_builtin("fake_host_app", host_app)
    other = httpx.Client(base_url=live_server(create_app(second)), headers={"X-API-Key": site.api_key}, timeout=10)
    with other:
        statuses = [client.get("/api/zapier/me").status_code for client in (zapier, other, other)]
    assert statuses == [200, 200, 429]


def test_a_revoked_keys_bucket_is_dropped(site, zapier, zapier_host):
    from core.store.tables import rate_limits
    from plugins.zapier.connect_flow import revoke_key

    zapier.get("/api/zapier/me")
    revoke_key(zapier_host.context("zapier").for_tenant(site.tenant), site.key_id, actor="test")
    with zapier_host.store.read() as c:
        assert c.execute(rate_limits.select().where(rate_limits.c.key == site.key_id)).first() is None


def test_an_unknown_config_value_is_refused_with_its_path(make_host):
    import plugins.zapier as plugin

    host = make_host(plugins={"zapier": plugin}, config={"zapier": {"requests_per_minute": 0}})
    error = host.plugins.records["zapier"].error
    assert error is not None and "plugins.zapier.config" in error and "requests_per_minute" in error


def test_refused_requests_count_against_the_limit_too(zapier):
    """A key looping on bad requests is slowed down like any other."""
    refused = [zapier.post("/api/zapier/hooks", json={"event": "no.such_event"}).status_code for _ in range(2)]
    assert all(400 <= status < 500 for status in refused) and 429 not in refused
    assert zapier.get("/api/zapier/me").status_code == 429


def test_disconnecting_zapier_drops_the_sites_buckets(site, zapier, zapier_host):
    from core.store.tables import rate_limits

    zapier.get("/api/zapier/me")
    zapier_host.disconnect(site.tenant, "zapier")
    with zapier_host.store.read() as c:
        assert c.execute(rate_limits.select().where(rate_limits.c.key == site.key_id)).first() is None
