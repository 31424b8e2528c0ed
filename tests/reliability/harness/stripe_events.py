"""Stripe events as Stripe sends them: pretty-printed JSON bytes and a ``Stripe-Signature`` header.

The signature is computed here from Stripe's documented scheme (HMAC-SHA256 of ``"{t}.{body}"`` with
the endpoint's ``whsec_`` secret), independently of the plugin and the sandbox, so a bug in either
cannot make its own tests pass.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import attrs

API_VERSION = "2026-10-28.endive"
CREATED = 1767225600


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_bytes(event: dict[str, Any]) -> bytes:
    """Stripe pretty-prints: a body re-serialised by the host would no longer match the signature."""
    return json.dumps(event, indent=2).encode()


def checkout_completed(index: int, account: str, *, livemode: bool = False, run: str = "r") -> dict[str, Any]:
    """A paid ``checkout.session.completed`` on a connected account (no payment intent to re-fetch)."""
    session = f"cs_test_{run}{index:07d}"
    return {
        "id": f"evt_{run}{index:07d}",
        "object": "event",
        "account": account,
        "api_version": API_VERSION,
        "created": CREATED + index,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": session,
            "object": "checkout.session",
            "amount_total": 1000 + index % 5000,
            "currency": "usd",
            "customer_details": {"email": f"buyer{index}@example.com", "name": "Grace"},
            "livemode": livemode,
            "metadata": {"intellectra_offer_id": f"off_{index % 17}", "intellectra_offer_title": "Watercolour"},
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "paid",
            "status": "complete",
        }},
    }


@attrs.frozen
class SignedEvent:
    """One event to send; it is signed afresh at every attempt, as Stripe does on its retries."""

    event_id: str
    session_id: str
    account: str
    body: bytes

    def headers(self, secret: str, timestamp: int | None = None) -> dict[str, str]:
        return {"Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature_header(self.body, secret, timestamp),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}


def make_events(count: int, accounts: list[str], *, run: str = "r") -> list[SignedEvent]:
    """``count`` distinct events spread round-robin over ``accounts``."""
    out = []
    for i in range(count):
        event = checkout_completed(i, accounts[i % len(accounts)], run=run)
        out.append(SignedEvent(event_id=event["id"], session_id=event["data"]["object"]["id"],
                               account=event["account"], body=event_bytes(event)))
    return out
