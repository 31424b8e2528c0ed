"""Verifying Stripe's Connect webhooks on the intake hot path: signature over the raw bytes, then parse.

``stripe.WebhookSignature.verify_header`` checks the HMAC and the timestamp; building ``stripe.Event``
objects (``construct_event``) is left out of the hot path: the host stores the plain JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from core import InboundEvent, InboundRequest, WebhookRejected

from .config import StripeConnectConfig

SIGNATURE_HEADER = "stripe-signature"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def verify(config: StripeConnectConfig, request: InboundRequest) -> list[InboundEvent]:
    """The one event in a verified request; :class:`core.WebhookRejected` for anything untrustworthy."""
    secrets = config.signing_secrets()
    if not secrets:
        raise WebhookRejected("Stripe webhooks are not configured on this site (no signing secret); the site "
                              "operator must set STRIPE_WEBHOOK_SECRET.", code="webhook_not_configured",
                              http_status=503)
    header = _header(request.headers, SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected("Missing Stripe-Signature header: only Stripe's signed webhooks are accepted here.",
                              code="signature_missing", http_status=400)
    _check_signature(request.body, header, secrets, config.webhook_tolerance)
    return [inbound_event(_parse(request.body))]


def inbound_event(event: Mapping[str, Any]) -> InboundEvent:
    """A Stripe event (from a webhook or the events API) as the host stores it."""
    created = event.get("created")
    return InboundEvent(
        external_id=str(event["id"]),
        type=str(event["type"]),
        payload=dict(event),
        account=event.get("account"),
        livemode=bool(event.get("livemode")),
        occurred_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
    )


def _check_signature(body: bytes, header: str, secrets: list[str], tolerance: int) -> None:
    stale = False
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(body, header, secret, tolerance)
            _refuse_future_timestamp(header, tolerance)
            return
        except stripe.SignatureVerificationError as exc:
            stale = stale or "tolerance" in (exc.user_message or "")
        except UnicodeDecodeError as exc:
            raise WebhookRejected("The webhook body is not UTF-8 text, so it cannot be Stripe's.",
                                  code="body_invalid", http_status=400) from exc
    if stale:
        raise WebhookRejected(f"The Stripe-Signature timestamp is more than {tolerance} seconds old; a replayed "
                              "or delayed webhook is refused. Check the server clock if this keeps happening.",
                              code="signature_stale", http_status=400)
    raise WebhookRejected("The Stripe-Signature does not match the body with any configured signing secret: the "
                          "body was changed, or STRIPE_WEBHOOK_SECRET is not this endpoint's secret.",
                          code="signature_invalid", http_status=400)


def _refuse_future_timestamp(header: str, tolerance: int) -> None:
    """Stripe's library refuses only timestamps older than the tolerance; one further ahead is refused too."""
    timestamp = int(next(item.split("=", 2)[1] for item in header.split(",") if item.split("=", 2)[0] == "t"))
    if tolerance and timestamp > time.time() + tolerance:
        raise WebhookRejected(f"The Stripe-Signature timestamp is more than {tolerance} seconds in the future; it "
                              "is refused. Check the server clock if this keeps happening.",
                              code="signature_future", http_status=400)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep to be Stripe's
        raise WebhookRejected(f"The signed webhook body is not valid JSON ({exc}).", code="body_invalid",
                              http_status=400) from exc
    account = event.get("account") if isinstance(event, dict) else None
    if not isinstance(event, dict) or not _text(event.get("id"), 255) or not _text(event.get("type"), 200) \
            or not (account is None or _text(account, 255)):
        raise WebhookRejected("The signed webhook body is not a Stripe event (it needs an `id` and a `type`).",
                              code="body_invalid", http_status=400)
    return event


def _text(value: Any, longest: int) -> bool:
    """A non-empty string of at most ``longest`` characters (what the host stores for ids and types)."""
    return isinstance(value, str) and 0 < len(value) <= longest
