"""API keys: the creator makes one (shown once), Zapier uses it, the creator revokes it."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from core import ConnectionState


def test_creating_a_key_returns_it_once_and_lists_only_its_prefix(site, zapier_host):
    with site.creator() as creator:
        created = creator.post("/api/zapier/keys", json={"label": "My Zapier account"})
        listed = creator.get("/api/zapier/keys").json()["keys"]
    assert created.status_code == 201
    body = created.json()
    assert body["api_key"].startswith("ik_") and body["key"]["label"] == "My Zapier account"
    assert "not shown again" in body["message"]
    assert created.headers["cache-control"] == "no-store"
    assert {k["label"] for k in listed} == {"Ada's Studio key", "My Zapier account"}
    assert body["api_key"] not in str(listed)
    assert all(body["api_key"].startswith(k["prefix"]) or k["id"] != body["key"]["id"] for k in listed)


def test_keys_are_stored_hashed(site, zapier_host):
    with zapier_host.store.read() as c:
        rows = c.execute(text("SELECT * FROM api_keys")).mappings().all()
    dump = str([dict(r) for r in rows])
    assert len(rows) == 1 and site.api_key not in dump
    assert len(rows[0]["key_hash"]) == 64


def test_a_used_key_identifies_the_site_and_records_when_it_was_last_used(site, zapier, clock):
    clock.advance(60)
    me = zapier.get("/api/zapier/me")
    assert me.status_code == 200
    assert me.json() == {"id": site.tenant.id, "name": "Ada's Studio", "key_label": "Ada's Studio key"}
    with site.creator() as creator:
        (key,) = creator.get("/api/zapier/keys").json()["keys"]
    assert key["last_used_at"] == clock.now().isoformat().replace("+00:00", "Z")


def test_missing_and_wrong_keys_get_a_401_that_says_where_to_get_one(site, base_url):
    missing = httpx.get(f"{base_url}/api/zapier/me")
    wrong = httpx.get(f"{base_url}/api/zapier/me", headers={"X-API-Key": "ik_not-a-real-key"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["code"] == "api_key_missing"
    assert wrong.json()["error"]["code"] == "api_key_invalid"
    assert "Settings > Integrations > Zapier" in wrong.json()["error"]["message"]


def test_a_revoked_key_stops_working_and_revoking_again_is_harmless(site, zapier):
    with site.creator() as creator:
        first = creator.delete(f"/api/zapier/keys/{site.key_id}")
        again = creator.delete(f"/api/zapier/keys/{site.key_id}")
    assert first.status_code == again.status_code == 200
    assert first.json()["key"]["revoked_at"] is not None
    assert zapier.get("/api/zapier/me").status_code == 401


def test_a_site_cannot_revoke_another_sites_key(make_site):
    ada, bob = make_site("Ada"), make_site("Bob")
    with bob.creator() as creator:
        response = creator.delete(f"/api/zapier/keys/{ada.key_id}")
    assert response.status_code == 404
    with ada.zapier() as client:
        assert client.get("/api/zapier/me").status_code == 200


def test_the_zapier_key_api_cannot_revoke_another_integrations_key(site, zapier_host):
    other, _ = zapier_host.api_keys.create(site.tenant.id, "slack", label="Slack bot", actor="test")
    with site.creator() as creator:
        response = creator.delete(f"/api/zapier/keys/{other.id}")
    assert response.status_code == 404
    assert [k.id for k in zapier_host.api_keys.list(site.tenant.id, integration="slack")] == [other.id]


def test_the_key_api_needs_the_creators_identity(base_url):
    response = httpx.post(f"{base_url}/api/zapier/keys", json={})
    assert response.status_code == 401


def test_the_connection_follows_the_keys(site, zapier_host):
    connection = zapier_host.connections.find(site.tenant.id, "zapier")
    assert connection is not None and connection.state is ConnectionState.CONNECTED
    assert connection.reason == "1 API key, 0 active Zap triggers."
    with site.creator() as creator:
        creator.delete(f"/api/zapier/keys/{site.key_id}")
    after = zapier_host.connections.find(site.tenant.id, "zapier")
    assert after is not None and after.state is ConnectionState.ACTION_REQUIRED
    assert "Create an API key" in after.reason


def test_connecting_from_the_settings_page_asks_for_a_key_first(zapier_host):
    tenant, _ = zapier_host.tenants.create("Fresh Studio")
    outcome = zapier_host.connect(tenant, "zapier")
    assert outcome.connection is not None
    assert outcome.connection.state is ConnectionState.ACTION_REQUIRED


def test_disconnect_revokes_every_key_and_removes_every_subscription(site, zapier, zapier_host):
    zapier.post("/api/zapier/hooks", json={"event": "member.created", "target_url": "http://127.0.0.1:9/hook"})
    zapier_host.disconnect(site.tenant, "zapier")
    assert zapier_host.api_keys.list(site.tenant.id, integration="zapier") == []
    assert zapier_host.subscriptions.list(site.tenant.id, integration="zapier") == []
    assert zapier.get("/api/zapier/me").status_code == 401
    assert zapier_host.connections.find(site.tenant.id, "zapier").state is ConnectionState.DISCONNECTED
