"""The platform's domain event vocabulary: types, versioned payload schemas and stable examples.

A payload schema never renames or removes a field within a version; a breaking change is a new
version. Integrations return :class:`NewDomainEvent` with one of these payload classes (or a plain
mapping, validated against the schema); the host app emits its own with ``host.emit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class PurchaseCompleted:
    offer_id: str | None
    offer_title: str | None
    buyer_email: str | None
    amount: int
    currency: str
    provider: str
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    account_id: str | None = None
    livemode: bool = False


@attrs.frozen(kw_only=True)
class PurchaseRefunded:
    charge_id: str
    amount_refunded: int
    currency: str
    provider: str
    payment_intent_id: str | None = None
    offer_id: str | None = None
    buyer_email: str | None = None
    account_id: str | None = None
    livemode: bool = False


@attrs.frozen(kw_only=True)
class DisputeEvent:
    dispute_id: str
    charge_id: str | None
    amount: int
    currency: str
    reason: str | None
    status: str
    provider: str
    account_id: str | None = None
    livemode: bool = False


@attrs.frozen(kw_only=True)
class PayoutEvent:
    payout_id: str
    amount: int
    currency: str
    status: str
    arrival_date: int | None
    provider: str
    failure_message: str | None = None
    account_id: str | None = None
    livemode: bool = False


@attrs.frozen(kw_only=True)
class IntegrationChanged:
    integration: str
    state: str
    reason: str
    action_url: str | None = None


@attrs.frozen(kw_only=True)
class MemberCreated:
    member_id: str
    email: str
    name: str | None = None


@attrs.frozen(kw_only=True)
class EnrollmentCreated:
    enrollment_id: str
    member_id: str
    email: str
    course_id: str
    course_title: str | None = None


@attrs.frozen(kw_only=True)
class CourseCompleted:
    member_id: str
    email: str
    course_id: str
    course_title: str | None = None


@attrs.frozen(kw_only=True)
class EventType:
    """One domain event type: its name, schema version, payload class, and a stable example."""

    name: str
    title: str
    version: int
    schema: type[Any]
    example: Mapping[str, Any]
    source: str = "integration"


_STRIPE_IDS = {"account_id": "acct_1032D82eZvKYlo2C", "livemode": False, "provider": "stripe"}

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(name="purchase.completed", title="Purchase completed", version=1, schema=PurchaseCompleted,
                  example={"offer_id": "off_example", "offer_title": "Watercolour basics",
                           "buyer_email": "buyer@example.com", "amount": 4900, "currency": "usd",
                           "checkout_session_id": "cs_test_example", "payment_intent_id": "pi_example",
                           "charge_id": "ch_example", **_STRIPE_IDS}),
        EventType(name="purchase.refunded", title="Purchase refunded", version=1, schema=PurchaseRefunded,
                  example={"charge_id": "ch_example", "amount_refunded": 4900, "currency": "usd",
                           "payment_intent_id": "pi_example", "offer_id": "off_example",
                           "buyer_email": "buyer@example.com", **_STRIPE_IDS}),
        EventType(name="dispute.opened", title="Dispute opened", version=1, schema=DisputeEvent,
                  example={"dispute_id": "dp_example", "charge_id": "ch_example", "amount": 4900,
                           "currency": "usd", "reason": "fraudulent", "status": "needs_response",
                           **_STRIPE_IDS}),
        EventType(name="dispute.closed", title="Dispute closed", version=1, schema=DisputeEvent,
                  example={"dispute_id": "dp_example", "charge_id": "ch_example", "amount": 4900,
                           "currency": "usd", "reason": "fraudulent", "status": "won", **_STRIPE_IDS}),
        EventType(name="payout.paid", title="Payout paid", version=1, schema=PayoutEvent,
                  example={"payout_id": "po_example", "amount": 120000, "currency": "usd", "status": "paid",
                           "arrival_date": 1767225600, "failure_message": None, **_STRIPE_IDS}),
        EventType(name="payout.failed", title="Payout failed", version=1, schema=PayoutEvent,
                  example={"payout_id": "po_example", "amount": 120000, "currency": "usd", "status": "failed",
                           "arrival_date": 1767225600, "failure_message": "The bank account has been closed.",
                           **_STRIPE_IDS}),
        EventType(name="integration.connected", title="Integration connected", version=1,
                  schema=IntegrationChanged, source="host",
                  example={"integration": "stripe_connect", "state": "connected", "reason": "Ready to accept payments.",
                           "action_url": None}),
        EventType(name="integration.disconnected", title="Integration disconnected", version=1,
                  schema=IntegrationChanged, source="host",
                  example={"integration": "stripe_connect", "state": "disconnected",
                           "reason": "Disconnected by the creator.", "action_url": None}),
        EventType(name="integration.action_required", title="Integration needs attention", version=1,
                  schema=IntegrationChanged, source="host",
                  example={"integration": "stripe_connect", "state": "action_required",
                           "reason": "Stripe needs more information before you can accept payments.",
                           "action_url": "https://dashboard.stripe.com/"}),
        EventType(name="member.created", title="Member created", version=1, schema=MemberCreated, source="host",
                  example={"member_id": "mem_example", "email": "member@example.com", "name": "Ada Lovelace"}),
        EventType(name="enrollment.created", title="Enrollment created", version=1, schema=EnrollmentCreated,
                  source="host",
                  example={"enrollment_id": "enr_example", "member_id": "mem_example",
                           "email": "member@example.com", "course_id": "crs_example",
                           "course_title": "Watercolour basics"}),
        EventType(name="course.completed", title="Course completed", version=1, schema=CourseCompleted,
                  source="host",
                  example={"member_id": "mem_example", "email": "member@example.com", "course_id": "crs_example",
                           "course_title": "Watercolour basics"}),
    )
}


@attrs.frozen(kw_only=True)
class NewDomainEvent:
    """A domain event a handler (or the host app) wants emitted.

    ``data`` is an instance of the type's payload class or a mapping with its fields; the host
    validates it against the schema before anything is written.
    """

    type: str
    data: Any
    occurred_at: datetime | None = None
