"""Stripe ``checkout.session.completed`` events, each with a distinct id, signed like Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

WEBHOOK_SECRET = "whsec_intellectrabenchsecret0123456789"
SECRET_KEY = "sk_test_intellectrabench0123456789"
CLIENT_ID = "ca_intellectrabench0123456789"
ACCOUNT = "acct_1BenchAccount000"
NAME = "stripe_connect"


def checkout_completed(n: int, *, run: str | None = None, account: str = ACCOUNT) -> dict[str, Any]:
    """A paid Checkout Session event in Stripe's shape (~1.6 KB of JSON), id unique per ``run`` and ``n``.

    ``payment_intent`` is null (as for subscription-mode sessions), so the plugin's handler has no
    Stripe API call to make: the processing benchmark measures the host, not a network round trip.
    """
    run = run or uuid.uuid4().hex[:10]
    created = int(time.time())
    session = f"cs_test_{run}{n:08d}"
    return {
        "id": f"evt_{run}{n:010d}",
        "object": "event",
        "account": account,
        "api_version": "2025-08-27.basil",
        "created": created,
        "data": {"object": {
            "id": session, "object": "checkout.session", "after_expiration": None, "allow_promotion_codes": None,
            "amount_subtotal": 4900, "amount_total": 4900, "automatic_tax": {"enabled": False, "status": None},
            "billing_address_collection": None, "cancel_url": "https://example.com/cancel",
            "client_reference_id": None, "consent": None, "created": created - 60, "currency": "usd",
            "customer": None, "customer_creation": "if_required",
            "customer_details": {"address": {"city": None, "country": "US", "line1": None, "line2": None,
                                             "postal_code": "94103", "state": None},
                                 "email": f"buyer{n}@example.com", "name": "Grace Hopper", "phone": None,
                                 "tax_exempt": "none", "tax_ids": []},
            "customer_email": None, "expires_at": created + 86400, "livemode": False, "locale": None,
            "metadata": {"intellectra_offer_id": "off_bench", "intellectra_offer_title": "Watercolour basics"},
            "mode": "payment", "payment_intent": None, "payment_link": None,
            "payment_method_collection": "if_required", "payment_method_types": ["card"],
            "payment_status": "paid", "phone_number_collection": {"enabled": False}, "recovered_from": None,
            "setup_intent": None, "shipping_address_collection": None, "shipping_cost": None,
            "shipping_details": None, "shipping_options": [], "status": "complete", "submit_type": None,
            "subscription": None, "success_url": "https://example.com/success",
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "url": None}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
    }


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``body``: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def signed_bodies(count: int, *, run: str | None = None) -> list[tuple[str, bytes]]:
    """``count`` (signature, body) pairs with distinct event ids, signed now (valid for 300 s)."""
    run = run or uuid.uuid4().hex[:10]
    out = []
    for n in range(count):
        body = body_of(checkout_completed(n, run=run))
        out.append((sign(body), body))
    return out


def headers_for(signature: str) -> dict[str, str]:
    return {"content-type": "application/json", "stripe-signature": signature}
