"""Hostile requests to the webhook endpoint. Each gets a clear 4xx (a JSON error with a code and a
message), and the database is exactly as it was: nothing stored, nothing changed.

Authentic Stripe events that must not take effect (an unknown type, an account nobody connected,
test-mode events for a live connection) are different: they are answered 2xx so Stripe stops
retrying, stored once for the record, and change nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from harness import snapshot
from harness.arena import Arena, signed_request
from harness.stripe_events import checkout_completed, event_bytes, signature_header
from harness.world import STRIPE, WEBHOOK_SECRET, registry_dict
from sqlalchemy import select

from core.host import Host
from core.registry import parse_registry
from core.store.tables import inbound_events
from core.testing import LiveServer

WEBHOOK = f"/webhooks/{STRIPE}"
CAP = 512 * 1024


def now() -> int:
    return int(time.time())


def event(arena: Arena, index: int = 1, **changes: Any) -> dict[str, Any]:
    made = checkout_completed(index, arena.a.account, run="hostile")
    made.update(changes)
    return made


def body_signed(body: bytes, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET,
                content_type: str = "application/json") -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": content_type, "Stripe-Signature": signature_header(body, secret, timestamp)}


def nested(depth: int) -> bytes:
    return b'{"id": "evt_deep", "type": "checkout.session.completed", "data": ' + b"[" * depth + b"]" * depth + b"}"


Request = tuple[str, bytes, dict[str, str]]


def case_missing_signature(arena: Arena) -> Request:
    return WEBHOOK, event_bytes(event(arena)), {"Content-Type": "application/json"}


def case_bad_signature(arena: Arena) -> Request:
    return WEBHOOK, event_bytes(event(arena)), {"Content-Type": "application/json",
                                                "Stripe-Signature": f"t={now()},v1={'0' * 64}"}


def case_another_secret(arena: Arena) -> Request:
    return WEBHOOK, *signed_request(event(arena), secret="whsec_not_this_endpoints_secret")


def case_signature_over_a_different_body(arena: Arena) -> Request:
    _, headers = signed_request(event(arena, amount_total=100))
    tampered = event(arena)
    tampered["data"]["object"]["amount_total"] = 1
    return WEBHOOK, event_bytes(tampered), headers


def case_stale_timestamp(arena: Arena) -> Request:
    return WEBHOOK, *signed_request(event(arena), timestamp=now() - 301)


def case_future_timestamp(arena: Arena) -> Request:
    return WEBHOOK, *signed_request(event(arena), timestamp=now() + 3600)


def case_garbage_signature_header(arena: Arena) -> Request:
    return WEBHOOK, event_bytes(event(arena)), {"Content-Type": "application/json",
                                                "Stripe-Signature": "t=yesterday,v1=,v1"}


def case_malformed_json(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(b'{"id": "evt_x", "type": ')


def case_json_that_is_not_an_event(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(b'[{"id": "evt_x", "type": "checkout.session.completed"}]')


def case_event_id_not_a_string(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(json.dumps({**event(arena), "id": 12}).encode())


def case_deeply_nested_json(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(nested(100_000))


def case_not_utf8(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(b'{"id": "evt_\xff\xfe", "type": "x"}')


def case_empty_body(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(b"")


def case_body_over_the_cap(arena: Arena) -> Request:
    padded = event(arena)
    padded["data"]["object"]["metadata"]["padding"] = "x" * (CAP + 10)
    return WEBHOOK, *signed_request(padded)


def case_text_plain(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(event_bytes(event(arena)), content_type="text/plain")


def case_form_encoded(arena: Arena) -> Request:
    return WEBHOOK, *body_signed(b"id=evt_1&type=checkout.session.completed",
                                 content_type="application/x-www-form-urlencoded")


def case_no_content_type(arena: Arena) -> Request:
    body, headers = signed_request(event(arena))
    headers.pop("Content-Type")
    return WEBHOOK, body, headers


def case_unknown_integration(arena: Arena) -> Request:
    return "/webhooks/paypal", *signed_request(event(arena))


def case_integration_without_webhooks(arena: Arena) -> Request:
    return "/webhooks/zapier", *signed_request(event(arena))


def case_builtin_plugin_name(arena: Arena) -> Request:
    return "/webhooks/builtin_identity", *signed_request(event(arena))


CASES: dict[str, tuple[Callable[[Arena], Request], int, str | None]] = {
    "missing signature": (case_missing_signature, 400, "signature_missing"),
    "bad signature": (case_bad_signature, 400, "signature_invalid"),
    "signed with another secret": (case_another_secret, 400, "signature_invalid"),
    "valid signature over a different body": (case_signature_over_a_different_body, 400, "signature_invalid"),
    "stale timestamp": (case_stale_timestamp, 400, "signature_stale"),
    "future timestamp": (case_future_timestamp, 400, "signature_future"),
    "garbage signature header": (case_garbage_signature_header, 400, "signature_invalid"),
    "malformed JSON": (case_malformed_json, 400, "body_invalid"),
    "JSON that is not an event": (case_json_that_is_not_an_event, 400, "body_invalid"),
    "event id that is not a string": (case_event_id_not_a_string, 400, "body_invalid"),
    "deeply nested JSON": (case_deeply_nested_json, 400, "body_invalid"),
    "body that is not UTF-8": (case_not_utf8, 400, "body_invalid"),
    "empty body": (case_empty_body, 400, "body_invalid"),
    "body over the cap": (case_body_over_the_cap, 413, "body_too_large"),
    "text/plain": (case_text_plain, 415, "unsupported_media_type"),
    "form-encoded": (case_form_encoded, 415, "unsupported_media_type"),
    "no content type": (case_no_content_type, 415, "unsupported_media_type"),
    "unknown integration": (case_unknown_integration, 404, "integration_not_found"),
    "integration without webhooks": (case_integration_without_webhooks, 404, None),
    "built-in plugin name": (case_builtin_plugin_name, 404, "integration_not_found"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_webhook_gets_a_clear_4xx_and_changes_nothing(arena: Arena, name: str) -> None:
    make, status, code = CASES[name]
    path, body, headers = make(arena)
    before = snapshot.take(arena.host.store.engine)

    answer = arena.http.post(arena.url + path, content=body, headers=headers)

    assert answer.status_code == status, answer.text[:500]
    error = answer.json()["error"]
    assert error["message"].strip()
    if code is not None:
        assert error["code"] == code
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


def test_a_body_over_the_cap_streamed_without_a_length_is_cut_off_with_413(arena: Arena) -> None:
    before = snapshot.take(arena.host.store.engine)

    def chunks() -> Iterator[bytes]:
        for _ in range(CAP // 65536 + 4):
            yield b" " * 65536

    answer = arena.http.post(arena.url + WEBHOOK, content=chunks(),
                             headers={"Content-Type": "application/json", "Stripe-Signature": f"t={now()},v1=00"})

    assert answer.status_code == 413
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


def test_the_webhook_endpoint_takes_only_post(arena: Arena) -> None:
    assert arena.http.get(arena.url + WEBHOOK).status_code == 405
    assert arena.http.put(arena.url + WEBHOOK, content=b"{}").status_code == 405


# -- replays ---------------------------------------------------------------------------------------------------
SHORT_TOLERANCE = 4
@pytest.fixture
def short_tolerance_server(arena: Arena) -> Iterator[str]:
    """The arena's database behind a second host whose Stripe tolerance is a few seconds.

    Wide enough that a loaded CI machine still answers the first request inside it (one second was not: a
    timestamp in whole seconds can already be 0.99 s old when signed), short enough to wait out in the test.
    """
    registry = registry_dict(arena.sandbox.url)
    registry["plugins"][STRIPE]["config"]["webhook_tolerance"] = SHORT_TOLERANCE
    host = Host.create(settings=arena.host.settings, registry=parse_registry(registry), migrate=False)
    from core.web.app import create_app

    server = LiveServer(create_app(host)).start()
    try:
        yield server.url
    finally:
        server.stop()
        host.close()


def test_a_replayed_valid_request_is_a_duplicate_and_once_old_it_is_refused(
        arena: Arena, short_tolerance_server: str) -> None:
    signed_at = now()
    body, headers = signed_request(event(arena, index=900), timestamp=signed_at)
    first = arena.http.post(short_tolerance_server + WEBHOOK, content=body, headers=headers)
    assert first.status_code == 200 and first.json() == {"received": 1, "duplicates": 0}
    before = snapshot.take(arena.host.store.engine)

    replayed = arena.http.post(short_tolerance_server + WEBHOOK, content=body, headers=headers)
    time.sleep(max(0.0, signed_at + SHORT_TOLERANCE + 1.2 - time.time()))
    replayed_late = arena.http.post(short_tolerance_server + WEBHOOK, content=body, headers=headers)

    assert replayed.status_code == 200 and replayed.json() == {"received": 0, "duplicates": 1}
    assert replayed_late.status_code == 400 and replayed_late.json()["error"]["code"] == "signature_stale"
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


# -- authentic events that must not take effect -------------------------------------------------------------------
def deliver_and_process(arena: Arena, made: dict[str, Any]) -> httpx.Response:
    body, headers = signed_request(made)
    answer = arena.http.post(arena.url + WEBHOOK, content=body, headers=headers)
    arena.host.pipeline.processor.drain()
    return answer


def stored_status(arena: Arena, external_id: str) -> tuple[str, str | None]:
    with arena.host.store.read() as c:
        row = c.execute(select(inbound_events.c.status, inbound_events.c.last_error)
                        .where(inbound_events.c.external_id == external_id)).one()
    return row.status, row.last_error


AUTHENTIC_BUT_INERT = {
    "an unknown event type": lambda arena: event(arena, 901, type="totally.unknown_type"),
    "an account no site connected": lambda arena: event(arena, 902, account="acct_nobodyconnected"),
    "a test-mode event for a live connection": lambda arena: checkout_completed(903, arena.live.account, run="hostile"),
    "a live-mode event at a test-mode site": lambda arena: event(arena, 904, livemode=True),
}


@pytest.mark.parametrize("name", list(AUTHENTIC_BUT_INERT))
def test_an_authentic_event_that_must_not_apply_is_acknowledged_and_changes_nothing(arena: Arena, name: str) -> None:
    made = AUTHENTIC_BUT_INERT[name](arena)
    arena.host.pipeline.processor.drain()  # whatever earlier tests stored is settled first
    before = snapshot.take(arena.host.store.engine)

    answer = deliver_and_process(arena, made)

    assert answer.status_code == 200, answer.text
    changed = snapshot.changes(before, snapshot.take(arena.host.store.engine))
    assert set(changed) == {"inbound_events"}, changed  # the record of it, and nothing else
    status, _ = stored_status(arena, made["id"])
    assert status in ("ignored", "processed")


def test_an_event_for_another_tenants_account_reaches_only_that_tenant(arena: Arena) -> None:
    """Routing is by Stripe account, never by what the payload says: a sale on B's account reaches B."""
    made = checkout_completed(905, arena.b.account, run="hostile")
    made["data"]["object"]["metadata"].update(tenant_id=arena.a.id)
    a_events = arena.host.events.list(arena.a.id, limit=200)
    a_deliveries = arena.host.pipeline.list_deliveries(tenant_id=arena.a.id, limit=200)

    assert deliver_and_process(arena, made).status_code == 200

    assert arena.host.events.list(arena.a.id, limit=200) == a_events
    assert arena.host.pipeline.list_deliveries(tenant_id=arena.a.id, limit=200) == a_deliveries
    [purchase] = [e for e in arena.host.events.list(arena.b.id, limit=200)
                  if e.data.get("provider_refs", {}).get("checkout_session") == made["data"]["object"]["id"]]
    assert purchase.tenant_id == arena.b.id


def test_a_sale_stamped_for_another_site_on_this_account_reaches_neither_site(arena: Arena) -> None:
    """The platform stamps each checkout with the site it sold for. B's account carrying A's stamp is a sale
    A made while A had the account: never A's now (routing is by account) and never B's (not B's sale)."""
    made = checkout_completed(906, arena.b.account, run="hostile")
    made["data"]["object"]["metadata"].update(intellectra_tenant=arena.a.id)
    arena.host.pipeline.processor.drain()
    before = snapshot.take(arena.host.store.engine)

    assert deliver_and_process(arena, made).status_code == 200

    changed = snapshot.changes(before, snapshot.take(arena.host.store.engine))
    assert set(changed) == {"inbound_events"}, changed
    status, reason = stored_status(arena, made["id"])
    assert status == "ignored"
    assert "made through another site" in (reason or "")
