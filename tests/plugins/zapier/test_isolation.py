"""A site's key never sees or touches another site's hooks, samples or actions."""

from __future__ import annotations

TARGET = "http://127.0.0.1:9/hooks/ada"


def test_hooks_are_invisible_and_untouchable_across_sites(make_site, zapier_host):
    ada, bob = make_site("Ada"), make_site("Bob")
    with ada.zapier() as a, bob.zapier() as b:
        hook = a.post("/api/zapier/hooks", json={"target_url": TARGET, "event": "member.created"}).json()
        assert b.get("/api/zapier/hooks").json()["hooks"] == []
        deleted = b.delete(f"/api/zapier/hooks/{hook['id']}")
        assert (deleted.status_code, deleted.json()["deleted"]) == (200, False)
        assert [h["id"] for h in a.get("/api/zapier/hooks").json()["hooks"]] == [hook["id"]]


def test_samples_show_only_the_sites_own_events(make_site, zapier_host):
    ada, bob = make_site("Ada"), make_site("Bob")
    zapier_host.emit(ada.tenant.id, "member.created", {"member_id": "mem_ada", "email": "x@ada.example"})
    with bob.zapier() as b:
        (item,) = b.get("/api/zapier/triggers/member.created/sample").json()
    assert item["id"] == "ev_example_member_created" and item["tenant_id"] == bob.tenant.id


def test_actions_act_for_the_keys_site_only(make_site, host_app):
    ada, bob = make_site("Ada"), make_site("Bob")
    for site, email in ((bob, "b@example.com"), (ada, "a@example.com")):
        with site.zapier() as client:
            client.post("/api/zapier/actions/enroll_member", json={"email": email, "course_id": "crs_watercolour"})
    assert [(tenant_id, data["email"]) for tenant_id, _, data in host_app.calls] == [
        (bob.tenant.id, "b@example.com"), (ada.tenant.id, "a@example.com")]


def test_a_zapier_key_cannot_remove_another_integrations_subscription(site, zapier, zapier_host):
    other, _ = zapier_host.subscriptions.subscribe(site.tenant.id, "slack", event_type="member.created",
                                                   target_url=TARGET)
    assert zapier.delete(f"/api/zapier/hooks/{other.id}").json()["deleted"] is False
    assert [s.id for s in zapier_host.subscriptions.list(site.tenant.id)] == [other.id]
