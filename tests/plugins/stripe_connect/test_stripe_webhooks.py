"""Verifying Stripe's webhooks: raw bytes, several secrets, tolerance, and what intake answers."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from intellectra_stripe_sandbox import sign
from stripe_kit import CLIENT_ID, NAME, OLD_WEBHOOK_SECRET, SECRET_KEY, WEBHOOK_SECRET, StripeWorld

from core import InboundRequest, Secret, WebhookRejected
from core.testing import Recorder
from plugins.stripe_connect.config import StripeConnectConfig
from plugins.stripe_connect.webhooks import verify

EVENT = {"id": "evt_1", "object": "event", "account": "acct_1", "api_version": "2026-10-28.endive",
         "created": 1767225600, "livemode": False, "type": "account.updated",
         "data": {"object": {"id": "acct_1", "object": "account"}}}
RAW = json.dumps(EVENT, indent=2)  # what Stripe sends: pretty-printed, so re-serialising changes the bytes


def config(secrets: str = WEBHOOK_SECRET) -> StripeConnectConfig:
    return StripeConnectConfig(secret_key=Secret(SECRET_KEY), client_id=CLIENT_ID, webhook_secrets=Secret(secrets))


def request(body: str | bytes, signature: str | None) -> InboundRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    raw = body.encode() if isinstance(body, str) else body
    return InboundRequest(integration=NAME, body=raw, headers=headers, content_type="application/json")


def signed(body: str = RAW, secret: str = WEBHOOK_SECRET, at: int | None = None) -> InboundRequest:
    return request(body, sign(body, secret, at if at is not None else int(time.time())))


def rejection(cfg: StripeConnectConfig, req: InboundRequest) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as caught:
        verify(cfg, req)
    return caught.value


def test_a_correctly_signed_event_is_parsed_for_the_host() -> None:
    [event] = verify(config(), signed())

    assert (event.external_id, event.type, event.account, event.livemode) == (
        "evt_1", "account.updated", "acct_1", False)
    assert event.payload == EVENT


def test_a_missing_signature_is_refused() -> None:
    error = rejection(config(), request(RAW, None))

    assert error.code == "signature_missing"
    assert "Stripe-Signature" in error.message


def test_a_signature_made_with_another_secret_is_refused() -> None:
    error = rejection(config(), signed(secret="whsec_somebodyelse"))

    assert error.code == "signature_invalid"
    assert error.http_status == 400


def test_a_timestamp_older_than_the_tolerance_is_refused() -> None:
    error = rejection(config(), signed(at=int(time.time()) - 301))

    assert error.code == "signature_stale"
    assert "300 seconds" in error.message


def test_both_the_old_and_the_new_secret_verify_during_a_rotation() -> None:
    rotating = config(f"{OLD_WEBHOOK_SECRET},{WEBHOOK_SECRET}")

    assert verify(rotating, signed(secret=OLD_WEBHOOK_SECRET))[0].external_id == "evt_1"
    assert verify(rotating, signed(secret=WEBHOOK_SECRET))[0].external_id == "evt_1"


def test_a_body_re_serialised_after_parsing_fails_verification() -> None:
    original = signed()
    reserialised = request(json.dumps(json.loads(original.body)), original.headers["Stripe-Signature"])

    assert rejection(config(), reserialised).code == "signature_invalid"


def test_a_signed_body_that_is_not_json_is_refused() -> None:
    assert rejection(config(), signed(body="{not json")).code == "body_invalid"


def test_a_site_without_a_signing_secret_refuses_webhooks_saying_what_to_set() -> None:
    error = rejection(config(secrets=""), signed())

    assert error.code == "webhook_not_configured"
    assert "STRIPE_WEBHOOK_SECRET" in error.message


# -- over HTTP, through the host's intake -------------------------------------------------------------------------
def post(world: StripeWorld, body: str, signature: str) -> httpx.Response:
    return httpx.post(f"{world.host_url}/webhooks/{NAME}", content=body.encode(), timeout=10,
                      headers={"Content-Type": "application/json", "Stripe-Signature": signature})


def stored(world: StripeWorld, external_id: str) -> list[Any]:
    return Recorder(world.host).inbound_events(external_id=external_id)


def test_intake_refuses_a_bad_signature_with_400_and_stores_nothing(stripe_world: StripeWorld) -> None:
    answer = post(stripe_world, RAW, sign(RAW, "whsec_forged", int(time.time())))

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "signature_invalid"
    assert stored(stripe_world, "evt_1") == []


def test_intake_refuses_a_stale_event_with_400_and_stores_nothing(stripe_world: StripeWorld) -> None:
    answer = post(stripe_world, RAW, sign(RAW, WEBHOOK_SECRET, int(time.time()) - 3600))

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "signature_stale"
    assert stored(stripe_world, "evt_1") == []


def test_intake_stores_a_signed_event_once_and_acknowledges_duplicates(stripe_world: StripeWorld) -> None:
    first = post(stripe_world, RAW, sign(RAW, WEBHOOK_SECRET, int(time.time())))
    again = post(stripe_world, RAW, sign(RAW, WEBHOOK_SECRET, int(time.time())))

    assert (first.status_code, first.json()) == (200, {"received": 1, "duplicates": 0})
    assert (again.status_code, again.json()) == (200, {"received": 0, "duplicates": 1})
    assert len(stored(stripe_world, "evt_1")) == 1
