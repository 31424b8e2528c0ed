"""The platform's domain event vocabulary: core's types, their versioned payload schemas and examples.

These are core's own entries in the event catalogue (``core.catalogue``), declared by a built-in
plugin through the same ``event_types`` hook a third party uses. A payload schema never renames or
removes a field within a version; a breaking change is a new version. Integrations return
:class:`NewDomainEvent` with one of these payload classes (or a plain mapping, validated against the
schema); the host app emits its own with ``host.emit``.

Money events name no provider's API: ``provider`` says whose (``"stripe"``, ``"paypal"``),
``provider_account`` is the creator's account there, ``payment_reference`` is the provider's id of
the payment (the same in a purchase, its refund and its disputes, so they can be matched), and
``provider_refs`` holds the provider's other ids under names the provider's plugin documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class EventType:
    """One domain event type in the catalogue: what a plugin's ``event_types`` hook returns.

    ``name`` is dotted and lowercase (``acme_pay.sale_held``); ``version`` is the payload schema's
    version (start at 1; a removed or renamed field is a new version); ``schema`` is the attrs class
    of the payload (``data``); ``example`` is a stable payload that fits it (trigger samples, docs,
    tests); ``title`` and ``description`` are what creators and operators read.
    """

    name: str
    title: str
    version: int
    schema: type[Any]
    example: Mapping[str, Any]
    description: str = ""


@attrs.frozen(kw_only=True)
class NewDomainEvent:
    """A domain event a handler (or the host app) wants emitted.

    ``data`` is an instance of the type's payload class or a mapping with its fields; the host
    validates it against the schema before anything is written.
    """

    type: str
    data: Any
    occurred_at: datetime | None = None


# -- money (version 2: no provider's field names) ------------------------------------------------------------
@attrs.frozen(kw_only=True)
class PurchaseCompleted:
    offer_id: str | None
    offer_title: str | None
    buyer_email: str | None
    amount: int
    currency: str
    provider: str
    provider_account: str | None = None
    payment_reference: str | None = None
    provider_refs: dict[str, str] = attrs.field(factory=dict)
    livemode: bool = False


@attrs.frozen(kw_only=True)
class PurchaseRefunded:
    payment_reference: str
    amount_refunded: int
    currency: str
    provider: str
    offer_id: str | None = None
    buyer_email: str | None = None
    provider_account: str | None = None
    provider_refs: dict[str, str] = attrs.field(factory=dict)
    livemode: bool = False


@attrs.frozen(kw_only=True)
class DisputeEvent:
    dispute_id: str
    payment_reference: str | None
    amount: int
    currency: str
    reason: str | None
    status: str
    provider: str
    provider_account: str | None = None
    provider_refs: dict[str, str] = attrs.field(factory=dict)
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
    provider_account: str | None = None
    provider_refs: dict[str, str] = attrs.field(factory=dict)
    livemode: bool = False


# -- the site and its integrations ----------------------------------------------------------------------------
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



# -- the catalogue entries ----------------------------------------------------------------------------------
# The money examples carry the values the first-party Stripe plugin fills in, so a Zap editor shows
# realistic data before a site has any events; the schemas themselves name no provider.
_STRIPE = {"provider": "stripe", "provider_account": "acct_1032D82eZvKYlo2C", "livemode": False}
_PAYMENT = {"payment_reference": "ch_example"}

CORE_EVENT_TYPES: Mapping[str, EventType] = MappingProxyType({t.name: t for t in (
    EventType(name="purchase.completed", title="Purchase completed", version=2, schema=PurchaseCompleted,
              description="A buyer paid for an offer; the money is on its way to the creator's account.",
              example={"offer_id": "off_example", "offer_title": "Watercolour basics",
                       "buyer_email": "buyer@example.com", "amount": 4900, "currency": "usd", **_STRIPE, **_PAYMENT,
                       "provider_refs": {"checkout_session": "cs_test_example", "payment_intent": "pi_example"}}),
    EventType(name="purchase.refunded", title="Purchase refunded", version=2, schema=PurchaseRefunded,
              description="Some or all of a payment went back to the buyer (amount_refunded is the total so far).",
              example={**_PAYMENT, "amount_refunded": 4900, "currency": "usd", "offer_id": "off_example",
                       "buyer_email": "buyer@example.com", **_STRIPE,
                       "provider_refs": {"payment_intent": "pi_example"}}),
    EventType(name="dispute.opened", title="Dispute opened", version=2, schema=DisputeEvent,
              description="A buyer's bank disputed a payment; the creator answers it at their provider.",
              example={"dispute_id": "dp_example", **_PAYMENT, "amount": 4900, "currency": "usd",
                       "reason": "fraudulent", "status": "needs_response", **_STRIPE,
                       "provider_refs": {"payment_intent": "pi_example"}}),
    EventType(name="dispute.closed", title="Dispute closed", version=2, schema=DisputeEvent,
              description="A dispute was decided (status won or lost).",
              example={"dispute_id": "dp_example", **_PAYMENT, "amount": 4900, "currency": "usd",
                       "reason": "fraudulent", "status": "won", **_STRIPE,
                       "provider_refs": {"payment_intent": "pi_example"}}),
    EventType(name="payout.paid", title="Payout paid", version=2, schema=PayoutEvent,
              description="The provider paid the creator's balance out to their bank.",
              example={"payout_id": "po_example", "amount": 120000, "currency": "usd", "status": "paid",
                       "arrival_date": 1767225600, "failure_message": None, **_STRIPE, "provider_refs": {}}),
    EventType(name="payout.failed", title="Payout failed", version=2, schema=PayoutEvent,
              description="A payout to the creator's bank failed; failure_message says why.",
              example={"payout_id": "po_example", "amount": 120000, "currency": "usd", "status": "failed",
                       "arrival_date": 1767225600, "failure_message": "The bank account has been closed.",
                       **_STRIPE, "provider_refs": {}}),
    EventType(name="integration.connected", title="Integration connected", version=1, schema=IntegrationChanged,
              description="The creator connected an integration and it works.",
              example={"integration": "stripe_connect", "state": "connected", "reason": "Ready to accept payments.",
                       "action_url": None}),
    EventType(name="integration.disconnected", title="Integration disconnected", version=1,
              schema=IntegrationChanged, description="An integration was disconnected, by the creator or the provider.",
              example={"integration": "stripe_connect", "state": "disconnected",
                       "reason": "Disconnected by the creator.", "action_url": None}),
    EventType(name="integration.action_required", title="Integration needs attention", version=1,
              schema=IntegrationChanged,
              description="A connected integration needs something from the creator (action_url says where).",
              example={"integration": "stripe_connect", "state": "action_required",
                       "reason": "Stripe needs more information before you can accept payments.",
                       "action_url": "https://dashboard.stripe.com/"}),
    EventType(name="member.created", title="Member created", version=1, schema=MemberCreated,
              description="Someone joined the site (emitted by the host app).",
              example={"member_id": "mem_example", "email": "member@example.com", "name": "Ada Lovelace"}),
    EventType(name="enrollment.created", title="Enrollment created", version=1, schema=EnrollmentCreated,
              description="A member was enrolled in a course (emitted by the host app).",
              example={"enrollment_id": "enr_example", "member_id": "mem_example", "email": "member@example.com",
                       "course_id": "crs_example", "course_title": "Watercolour basics"}),
    EventType(name="course.completed", title="Course completed", version=1, schema=CourseCompleted,
              description="A member finished a course (emitted by the host app).",
              example={"member_id": "mem_example", "email": "member@example.com", "course_id": "crs_example",
                       "course_title": "Watercolour basics"}),
)})
"""Core's vocabulary by name, in the order listings show it; declared by the built-in ``core`` plugin.

Fixed, so a plugin's tests can take core's examples from it without a host; what a deployment
accepts is its catalogue, ``host.event_types``."""
