"""Intake over real HTTP: verified, stored once, committed before 2xx; every refusal clear and counted."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import attrs
import httpx
import pytest
from fakepay import sign, signed_request, thing_paid

from core.web.app import create_app


@pytest.fixture
def url(fake, live_server):
    return live_server(create_app(fake.host))


def post(url, payload, **overrides):
    body, headers = signed_request(payload)
    headers.update(overrides.pop("headers", {}))
    return httpx.post(f"{url}/webhooks/fake", content=overrides.pop("body", body), headers=headers)


def test_a_signed_event_is_stored_then_acknowledged(url, fake, recorder):
    response = post(url, thing_paid("evt_1"))
    assert response.status_code == 200
    assert response.json() == {"received": 1, "duplicates": 0}
    (row,) = recorder.inbound_events()
    assert (row.integration, row.external_id, row.type, row.status) == ("fake", "evt_1", "thing.paid", "pending")
    assert json.loads(row.payload)["data"]["amount"] == 4900


def test_a_duplicate_is_acknowledged_and_stores_nothing_new(url, fake, recorder):
    post(url, thing_paid("evt_1"))
    response = post(url, thing_paid("evt_1"))
    assert response.status_code == 200
    assert response.json() == {"received": 0, "duplicates": 1}
    assert len(recorder.inbound_events()) == 1
    assert fake.host.pipeline.metrics["intake"]["duplicates"] == {"fake": 1}


def test_concurrent_copies_of_one_event_are_stored_once(url, fake, recorder):
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: post(url, thing_paid("evt_same")), range(16)))
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["received"] for r in responses) == 1
    assert sum(r.json()["duplicates"] for r in responses) == 15
    assert len(recorder.inbound_events()) == 1


def test_many_concurrent_distinct_events_are_all_stored(url, fake, recorder):
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda i: post(url, thing_paid(f"evt_{i}")), range(40)))
    assert all(r.json() == {"received": 1, "duplicates": 0} for r in responses)
    assert len(recorder.inbound_events()) == 40


def test_a_bad_signature_is_refused_with_401_and_nothing_stored(url, fake, recorder):
    response = post(url, thing_paid(), headers={"x-fake-signature": "0" * 64})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"
    assert "signing secret" in response.json()["error"]["message"]
    assert recorder.inbound_events() == []
    assert fake.host.pipeline.metrics["intake"]["rejected"]["fake"] == {"signature_invalid": 1}


def test_a_body_reserialised_after_parsing_fails_verification(url, fake, recorder):
    body, headers = signed_request(thing_paid())
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert reserialised != body
    response = httpx.post(f"{url}/webhooks/fake", content=reserialised, headers=headers)
    assert response.status_code == 401
    assert recorder.inbound_events() == []


def test_malformed_json_is_refused_with_400_and_nothing_stored(url, fake, recorder):
    body = b'{"id": "evt_1", "type": '
    response = httpx.post(f"{url}/webhooks/fake", content=body,
                          headers={"content-type": "application/json", "x-fake-signature": sign(body)})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "malformed_json", "message": "The body is not valid JSON."}
    assert recorder.inbound_events() == []


def test_a_wrong_content_type_is_refused_with_415_and_nothing_stored(url, fake, recorder):
    response = post(url, thing_paid(), headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]["message"]
    assert recorder.inbound_events() == []


def test_an_unknown_integration_is_refused_with_404_and_counted_as_unknown(url, fake, recorder):
    body, headers = signed_request(thing_paid())
    response = httpx.post(f"{url}/webhooks/nope", content=body, headers=headers)
    assert response.status_code == 404
    assert "check the webhook URL" in response.json()["error"]["message"]
    assert recorder.inbound_events() == []
    assert fake.host.pipeline.metrics["intake"]["rejected"]["(unknown)"] == {"integration_not_found": 1}


def test_an_oversized_body_is_refused_with_413_and_nothing_stored(make_fake, live_server, recorder):
    fake = make_fake(settings={"max_body_bytes": 1024})
    url = live_server(create_app(fake.host))
    payload = thing_paid()
    payload["padding"] = "x" * 2048
    response = post(url, payload)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert recorder.inbound_events() == []


def test_refusals_are_logged_for_the_operator(url, fake, caplog):
    with caplog.at_level("WARNING", logger="intellectra.pipeline.intake"):
        post(url, thing_paid(), headers={"x-fake-signature": "bad"})
    assert any("fake" in r.getMessage() and "signature_invalid" in r.getMessage() for r in caplog.records)


def test_the_operators_health_details_show_the_intake_counters(url, fake):
    fake.host.settings = attrs.evolve(fake.host.settings, metrics_token="operator-token")
    post(url, thing_paid("evt_1"))
    post(url, thing_paid("evt_2"), headers={"x-fake-signature": "bad"})
    details = httpx.get(f"{url}/healthz/details", headers={"Authorization": "Bearer operator-token"})
    intake = details.json()["pipeline"]["intake"]
    assert intake["accepted"] == {"fake": 1}
    assert intake["rejected"] == {"fake": {"signature_invalid": 1}}


def test_a_database_that_is_down_answers_503_and_never_2xx(url, fake, recorder, tmp_path):
    from core.store.engine import make_engine

    working = fake.host.store.engine
    fake.host.store.engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    try:
        response = post(url, thing_paid("evt_down"))
    finally:
        fake.host.store.engine.dispose()
        fake.host.store.engine = working
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_unavailable"
    assert response.headers["retry-after"] == "5"
    assert recorder.inbound_events() == []


def test_an_invalid_event_from_the_plugin_is_never_stored(url, fake, recorder):
    fake.plugin.broken_verify = True
    response = post(url, thing_paid("evt_1"))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "plugin_failed"
    assert "external_id must be a non-empty string" in response.json()["error"]["message"]
    assert recorder.inbound_events() == []
    assert "verify_webhook" in fake.host.plugins.records["fake"].runtime_errors[-1]


def test_events_fetched_from_the_provider_api_are_stored_once_without_a_signature(fake, recorder):
    from core import InboundEvent

    events = [InboundEvent(external_id=f"evt_{i}", type="thing.paid", payload=thing_paid(f"evt_{i}"),
                           account="acct_fake_1") for i in range(3)]
    fake.receive(thing_paid("evt_0"))
    result = fake.host.pipeline.intake.store_events("fake", events)
    assert result.body == {"received": 2, "duplicates": 1}
    assert len(recorder.inbound_events()) == 3


def test_in_process_intake_gives_the_plugin_case_insensitive_headers(fake, recorder):
    body, headers = signed_request(thing_paid("evt_1"))
    shouting = {"Content-Type": headers["content-type"], "X-Fake-Signature": headers["x-fake-signature"]}
    assert fake.host.pipeline.intake.receive_sync("fake", body, shouting).status_code == 200
