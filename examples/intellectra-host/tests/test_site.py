"""The site and the integration host it embeds, over HTTP: sign-in, the mounted pages in the site's
layout, Zapier's action through ``perform_action``, purchases enrolling buyers, signed deliveries."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest
from conftest import ADA, Receiver, RunningSite, form_token
from core.testing import Recorder

from intellectra_host.tables import courses

SETTINGS = "/integrations/settings/integrations"


def meta_csrf(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match
    return match[1]


def zapier_key(client: httpx.Client) -> str:
    """Create a Zapier API key (which connects Zapier) on the mounted settings page, as a creator would."""
    token = meta_csrf(client.get(SETTINGS).text)
    created = client.post(f"{SETTINGS}/zapier/api-keys", data={"csrf_token": token, "label": "My Zaps"})
    assert created.status_code == 201, created.text
    match = re.search(r'id="zapier-new-key"[^>]*value="([^"]+)"', created.text)
    assert match, "the new key is shown once, on the page"
    return match[1]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_creator_signed_in_to_the_site_sees_settings_integrations_in_the_sites_layout(running_site: RunningSite):
    client = running_site.signed_in()

    page = client.get(SETTINGS)

    assert page.status_code == 200
    assert '<a class="site-brand" href="/">Intellectra</a>' in page.text
    assert f"{ADA['name']} · {ADA['site_name']}".replace("'", "&#39;") in page.text
    assert "Connect outside services to" in page.text
    assert page.text.count("<html") == 1


def test_the_integration_hosts_pages_send_strangers_to_the_sites_sign_in_and_back(running_site: RunningSite):
    stranger = running_site.browser_client()

    answer = stranger.get(SETTINGS)
    login = stranger.get(answer.headers["location"])
    signed_in = stranger.post("/login", data={"email": ADA["email"], "password": ADA["password"],
                                              "csrf_token": form_token(login.text), "next": SETTINGS})

    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    assert stranger.get("/integrations/login").status_code == 404, "the integration host's sign-in never shows"
    assert signed_in.headers["location"] == SETTINGS
    assert stranger.get(SETTINGS).status_code == 200


def test_a_wrong_password_is_refused(running_site: RunningSite):
    client = running_site.browser_client()
    login = client.get("/login")

    answer = client.post("/login", data={"email": ADA["email"], "password": "nope",
                                         "csrf_token": form_token(login.text)})

    assert answer.status_code == 400 and "do not match" in answer.text


def test_zapiers_enroll_member_enrolls_through_the_sites_perform_action_and_the_enrollment_is_delivered_signed(
        running_site: RunningSite, receiver: Receiver):
    client = running_site.signed_in()
    school = running_site.site.school
    ada = school.creators()[0]
    course = school.add_free_course(school.tenant_of(ada), "Colour theory")
    zapier = httpx.Client(base_url=f"{running_site.url}/integrations", headers={"X-API-Key": zapier_key(client)},
                          timeout=20)
    hook = zapier.post("/api/zapier/hooks", json={"target_url": receiver.url, "event": "enrollment.created"})
    receiver.secret = hook.json()["secret"]

    done = zapier.post("/api/zapier/actions/enroll_member", json={"email": "grace@example.com",
                                                                  "course_id": course.id})
    unknown = zapier.post("/api/zapier/actions/enroll_member", json={"email": "grace@example.com",
                                                                     "course_id": "crs_nope"})
    unsupported = zapier.post("/api/zapier/actions/add_tag", json={"email": "grace@example.com", "tag": "vip"})

    assert hook.status_code == 201
    assert done.status_code == 200, done.text
    assert done.json() == {"enrollment_id": done.json()["enrollment_id"], "member_id": done.json()["member_id"],
                           "email": "grace@example.com", "course_id": course.id, "course_title": "Colour theory",
                           "already_enrolled": False}
    assert unknown.status_code == 400 and "There is no course 'crs_nope'" in unknown.json()["error"]["message"]
    assert unsupported.status_code == 501
    assert [s.email for s in school.students(ada.tenant_id, course.id)] == ["grace@example.com"]
    wait_for(lambda: receiver.verified, "the signed enrollment.created delivery")
    (delivered,) = receiver.verified
    assert receiver.refused == []
    assert delivered["type"] == "enrollment.created"
    assert delivered["data"]["enrollment_id"] == done.json()["enrollment_id"]


def test_a_completed_purchase_of_a_courses_offer_enrolls_the_buyer_once(running_site: RunningSite):
    school, host = running_site.site.school, running_site.site.host
    ada = school.creators()[0]
    course = school.add_free_course(school.tenant_of(ada), "Colour theory")
    with host.engine.begin() as conn:  # as if sold through Stripe (test_story.py does it for real)
        conn.execute(courses.update().where(courses.c.id == course.id).values(offer_id="price_123", price=4900,
                                                                              currency="usd"))
    purchase = {"offer_id": "price_123", "offer_title": "Colour theory", "buyer_email": "buyer@example.com",
                "amount": 4900, "currency": "usd", "provider": "stripe"}

    host.emit(ada.tenant_id, "purchase.completed", purchase)
    host.emit(ada.tenant_id, "purchase.completed", purchase)  # a second notice of the same sale
    host.emit(ada.tenant_id, "purchase.completed", {**purchase, "offer_id": "price_elsewhere"})

    wait_for(lambda: Recorder(host).domain_events("enrollment.created"), "the buyer's enrollment")
    time.sleep(0.5)
    assert [(s.email, s.source) for s in school.students(ada.tenant_id, course.id)] == [
        ("buyer@example.com", "purchase")]
    assert len(Recorder(host).domain_events("enrollment.created")) == 1
