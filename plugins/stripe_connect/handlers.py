"""Stored Stripe events → connection changes and domain events, in a worker.

Events arrive late, twice or out of order: account events re-fetch the account; money events are facts
Stripe does not take back (a refund is its own event), so their snapshot is what happened.

Money events fill core's generic provider fields: ``provider_account`` is the connected account,
``payment_reference`` the charge (what Stripe's refunds and disputes name, so they match their
purchase), and ``provider_refs`` Stripe's other ids: ``checkout_session`` and ``payment_intent`` on a
purchase, ``payment_intent`` on a refund or dispute (docs/plugins/stripe_connect.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from core import ConnectError, IgnoreEvent, IntegrationContext, NewDomainEvent, StoredEvent

from .client import is_revoked, make_client, on_account, stripe_errors
from .config import StripeConnectConfig
from .connect_flow import fetch_account
from .lifecycle import mode_name
from .status import revoked_status, status_from_account

PROVIDER = "stripe"
OFFER_ID_KEY = "intellectra_offer_id"
OFFER_TITLE_KEY = "intellectra_offer_title"
TENANT_KEY = "intellectra_tenant"

Handler = Callable[[IntegrationContext, StoredEvent, Mapping[str, Any]], list[NewDomainEvent]]


def handle(ctx: IntegrationContext, event: StoredEvent) -> list[NewDomainEvent]:
    """Route one event to its handler after checking it belongs to this connection and mode."""
    config: StripeConnectConfig = ctx.config
    connection = ctx.connection
    if connection is None or not connection.is_active:
        raise IgnoreEvent(f"No site has Stripe account {event.account or '(none)'} connected; the event was "
                          "stored and not applied.", code="unknown_account")
    event_mode = bool(event.livemode)
    if connection.livemode is not None and event_mode != connection.livemode:
        raise IgnoreEvent(f"A {mode_name(event_mode)}-mode event never touches a {mode_name(connection.livemode)} "
                          "connection.", code="other_mode")
    if event_mode != config.livemode:
        raise IgnoreEvent(f"A {mode_name(event_mode)}-mode event arrived at a site running with a "
                          f"{mode_name(config.livemode)}-mode key; it was not applied.", code="other_mode")
    handler = HANDLERS.get(event.type)
    if handler is None:
        return []
    obj: Mapping[str, Any] = (event.payload.get("data") or {}).get("object") or {}
    return handler(ctx, event, obj)


def _occurred(event: StoredEvent) -> datetime | None:
    created = event.payload.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None


def _provider(event: StoredEvent, **refs: str | None) -> dict[str, Any]:
    """Who the money event is from: core's generic provider fields (``refs`` without the missing ids)."""
    return {"provider": PROVIDER, "provider_account": event.account, "livemode": bool(event.livemode),
            "provider_refs": {name: value for name, value in refs.items() if value}}


# -- the connection ------------------------------------------------------------------------------------------
def account_updated(ctx: IntegrationContext, event: StoredEvent, obj: Mapping[str, Any]) -> list[NewDomainEvent]:
    """Re-fetch the account (an older ``account.updated`` may arrive after a newer one) and set the status."""
    config: StripeConnectConfig = ctx.config
    account_id = event.account or str(obj.get("id"))
    dashboard = config.dashboard_for(account_id)
    try:
        account = _refetch(ctx, account_id)
    except ConnectError as exc:
        if not is_revoked(exc.__cause__ or exc):
            raise  # an outage: the event is retried with backoff
        ctx.set_status(revoked_status(dashboard))
        return []
    status = status_from_account(account, dashboard_url=dashboard)
    ctx.set_status(status)
    ctx.update_data(**status.details)
    return []


def deauthorized(ctx: IntegrationContext, event: StoredEvent, obj: Mapping[str, Any]) -> list[NewDomainEvent]:
    """The creator disconnected the platform in Stripe, unless access came back since (a late event)."""
    try:
        _refetch(ctx, event.account or "")
    except ConnectError as exc:
        if not is_revoked(exc.__cause__ or exc):
            raise
        ctx.mark_disconnected("You disconnected this site from your Stripe account in Stripe. Connect Stripe "
                              "again to take payments.")
        return []
    raise IgnoreEvent("Stripe still gives this site access to the account (it was connected again after this "
                      "deauthorization), so the connection was kept.", code="stale_deauthorization")


def _refetch(ctx: IntegrationContext, account_id: str) -> dict[str, Any]:
    """The account now; Stripe's failures as :class:`core.ConnectError` (not a plugin bug: retried)."""
    with stripe_errors("re-reading the Stripe account"):
        return fetch_account(ctx, account_id)


# -- money -----------------------------------------------------------------------------------------------------
def checkout_completed(ctx: IntegrationContext, event: StoredEvent,
                       obj: Mapping[str, Any]) -> list[NewDomainEvent]:
    """A paid Checkout Session is a purchase (unpaid ones complete later: ``async_payment_succeeded``)."""
    if obj.get("payment_status") != "paid":
        return []
    metadata = obj.get("metadata") or {}
    _check_tenant(ctx, metadata)
    payment_intent = _id_of(obj.get("payment_intent"))
    details = obj.get("customer_details") or {}
    return [NewDomainEvent(type="purchase.completed", occurred_at=_occurred(event), data={
        "offer_id": metadata.get(OFFER_ID_KEY),
        "offer_title": metadata.get(OFFER_TITLE_KEY),
        "buyer_email": details.get("email") or obj.get("customer_email"),
        "amount": int(obj.get("amount_total") or 0),
        "currency": str(obj.get("currency") or ""),
        "payment_reference": _latest_charge(ctx, event, payment_intent),
        **_provider(event, checkout_session=obj.get("id"), payment_intent=payment_intent),
    })]


def _check_tenant(ctx: IntegrationContext, metadata: Mapping[str, Any]) -> None:
    """A sale this platform made for another site (before the account moved to this one) is not this site's."""
    sold_for = metadata.get(TENANT_KEY)
    if sold_for and ctx.tenant is not None and sold_for != ctx.tenant.id:
        raise IgnoreEvent("This payment was made through another site that had this Stripe account connected "
                          "before, so it was not applied to this site.", code="other_tenant")


def _latest_charge(ctx: IntegrationContext, event: StoredEvent, payment_intent: str | None) -> str | None:
    """The charge behind a payment, so a later refund or dispute can be matched to this purchase."""
    if not payment_intent or not event.account:
        return None
    with stripe_errors("reading the payment"):
        intent = make_client(ctx).v1.payment_intents.retrieve(payment_intent, options=on_account(event.account))
    return _id_of(intent.to_dict().get("latest_charge"))


def charge_refunded(ctx: IntegrationContext, event: StoredEvent, obj: Mapping[str, Any]) -> list[NewDomainEvent]:
    metadata = obj.get("metadata") or {}
    _check_tenant(ctx, metadata)
    billing = obj.get("billing_details") or {}
    return [NewDomainEvent(type="purchase.refunded", occurred_at=_occurred(event), data={
        "payment_reference": obj.get("id"),
        "amount_refunded": int(obj.get("amount_refunded") or 0),
        "currency": str(obj.get("currency") or ""),
        "offer_id": metadata.get(OFFER_ID_KEY),
        "buyer_email": billing.get("email") or obj.get("receipt_email"),
        **_provider(event, payment_intent=_id_of(obj.get("payment_intent"))),
    })]


def _dispute(domain_type: str) -> Handler:
    def handler(ctx: IntegrationContext, event: StoredEvent, obj: Mapping[str, Any]) -> list[NewDomainEvent]:
        """Recorded and forwarded: disputes are the creator's business, the platform does not intervene."""
        return [NewDomainEvent(type=domain_type, occurred_at=_occurred(event), data={
            "dispute_id": obj.get("id"),
            "payment_reference": _id_of(obj.get("charge")),
            "amount": int(obj.get("amount") or 0),
            "currency": str(obj.get("currency") or ""),
            "reason": obj.get("reason"),
            "status": str(obj.get("status") or ""),
            **_provider(event, payment_intent=_id_of(obj.get("payment_intent"))),
        })]

    return handler


def _payout(domain_type: str) -> Handler:
    def handler(ctx: IntegrationContext, event: StoredEvent, obj: Mapping[str, Any]) -> list[NewDomainEvent]:
        return [NewDomainEvent(type=domain_type, occurred_at=_occurred(event), data={
            "payout_id": obj.get("id"),
            "amount": int(obj.get("amount") or 0),
            "currency": str(obj.get("currency") or ""),
            "status": str(obj.get("status") or ""),
            "arrival_date": obj.get("arrival_date"),
            "failure_message": obj.get("failure_message"),
            **_provider(event),
        })]

    return handler


def _id_of(value: Any) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the expanded object."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value if isinstance(value, str) else None


HANDLERS: dict[str, Handler] = {
    "account.updated": account_updated,
    "account.application.deauthorized": deauthorized,
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": checkout_completed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": _dispute("dispute.opened"),
    "charge.dispute.closed": _dispute("dispute.closed"),
    "payout.paid": _payout("payout.paid"),
    "payout.failed": _payout("payout.failed"),
}
"""The event types this plugin applies; every other type is stored and acknowledged."""

HANDLED_EVENT_TYPES = tuple(HANDLERS)
