"""Actions: validated input, routed to the host app; clear errors Zapier shows to the user."""

from __future__ import annotations

ENROLL = {"email": "member@example.com", "course_id": "crs_watercolour"}


def test_an_action_is_carried_out_by_the_host_app(site, zapier, host_app):
    response = zapier.post("/api/zapier/actions/enroll_member", json=ENROLL)
    assert response.status_code == 200
    assert response.json() == {"enrollment_id": "enr_1", "email": "member@example.com",
                               "course_id": "crs_watercolour"}
    assert host_app.calls == [(site.tenant.id, "enroll_member", ENROLL)]


def test_invalid_input_is_refused_per_field_before_the_host_app_is_asked(zapier, host_app):
    response = zapier.post("/api/zapier/actions/enroll_member", json={"email": "not-an-email"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert set(error["fields"]) == {"course_id"}
    assert "course_id is required" in error["message"]
    bad_email = zapier.post("/api/zapier/actions/enroll_member", json={**ENROLL, "email": "nope"}).json()
    assert bad_email["error"]["fields"] == {"email": "'nope' is not an email address"}
    assert host_app.calls == []


def test_the_host_apps_refusal_reaches_the_user(zapier):
    response = zapier.post("/api/zapier/actions/enroll_member", json={**ENROLL, "course_id": "crs_missing"})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "course_unknown",
                                        "message": "There is no course 'crs_missing' on this site."}


def test_an_action_the_host_does_not_implement_is_501(zapier):
    response = zapier.post("/api/zapier/actions/add_tag", json={"email": "member@example.com", "tag": "vip"})
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == "action_not_supported" and "add_tag" in error["message"]


def test_an_unknown_action_is_a_404_listing_the_actions(zapier):
    response = zapier.post("/api/zapier/actions/delete_site", json={})
    assert response.status_code == 404
    assert "enroll_member" in response.json()["error"]["message"]


def test_a_body_that_is_not_json_is_a_400(zapier):
    response = zapier.post("/api/zapier/actions/create_member", content=b"{nope",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"
