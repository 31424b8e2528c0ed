"""Paid offers and checkout: a Product and Price on the creator's own account, sold by Checkout Sessions.

Stripe is the store of record: an offer *is* a Price on the connected account (its id is the offer id)
whose Product carries the offer's details in metadata, so the host keeps no offers table. Its checkout
link is a buyer page (``/integrations/stripe_connect/buy/{tenant}/{offer}``, see ``buyer``); its Buy button
creates one Checkout Session: a direct charge on the creator's account with the platform's application
fee; payment methods are left to the creator's dashboard settings (no ``payment_method_types``). Prices
are checked against Stripe's charge limits per currency (``money``) before anything is created.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import stripe
from stripe.params import PriceCreateParams, ProductCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsPaymentIntentData,
    SessionCreateParamsSubscriptionData,
)

from core import ActionRequired, Connection, IntegrationContext, NotConnected, NotFound, Tenant, ValidationFailed

from .client import make_client, on_account, stripe_errors
from .config import StripeConnectConfig
from .connect_flow import read_account
from .handlers import OFFER_ID_KEY, OFFER_TITLE_KEY, TENANT_KEY
from .info import NAME
from .lifecycle import guard_mode
from .money import check_amount, check_currency, shown
from .status import plain_requirements, status_from_account

KINDS = ("course", "download", "membership", "bundle")
INTERVALS = ("month", "year")


METADATA_VALUE_LIMIT = 500
"""Stripe keeps at most 500 characters in one metadata value; the offer's URLs and contents live there."""


def _check_url(value: str, name: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValidationFailed(f"{name} must be an http(s) URL, got {value!r}.", code="offer_invalid")
    if len(value) > METADATA_VALUE_LIMIT:
        raise ValidationFailed(f"{name} is {len(value)} characters long; Stripe keeps at most "
                               f"{METADATA_VALUE_LIMIT} in an offer's details, so use a shorter URL.",
                               code="offer_invalid")
    return value


@attrs.frozen(kw_only=True)
class OfferRequest:
    """What a creator sells: ``amount`` in the currency's smallest unit (cents); memberships recur."""

    title: str
    kind: str
    amount: int
    success_url: str
    currency: str = "usd"
    interval: str | None = None
    description: str | None = None
    cancel_url: str | None = None
    includes: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.title.strip():
            raise ValidationFailed("Give the offer a title (what the buyer sees at checkout).", code="offer_invalid")
        if self.kind not in KINDS:
            raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}.", code="offer_invalid")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ValidationFailed("amount must be a whole number of the currency's smallest unit above 0 (4900 "
                                   "is $49.00).", code="offer_invalid", field="amount")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationFailed(f"currency must be a three-letter ISO code like usd, got {self.currency!r}.",
                                   code="offer_invalid", field="currency")
        check_amount(self.amount, check_currency(self.currency))
        if self.kind == "membership" and self.interval not in INTERVALS:
            raise ValidationFailed(f"A membership renews every month or year: interval must be one of "
                                   f"{', '.join(INTERVALS)}.", code="offer_invalid")
        if self.kind != "membership" and self.interval is not None:
            raise ValidationFailed("Only a membership has an interval; a one-off offer is paid once.",
                                   code="offer_invalid")
        _check_url(self.success_url, "success_url")
        if self.cancel_url is not None:
            _check_url(self.cancel_url, "cancel_url")
        if len(",".join(self.includes)) > METADATA_VALUE_LIMIT:
            raise ValidationFailed(f"includes lists more than Stripe keeps in an offer's details "
                                   f"({METADATA_VALUE_LIMIT} characters of comma-separated ids); split the bundle "
                                   "or use shorter ids.", code="offer_invalid")

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> OfferRequest:
        """Build from an API request body, with messages that name the field."""
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ValidationFailed(f"Unknown field(s) {', '.join(unknown)}; an offer has {', '.join(sorted(known))}.",
                                   code="offer_invalid")
        missing = [name for name in ("title", "kind", "amount", "success_url") if body.get(name) in (None, "")]
        if missing:
            raise ValidationFailed(f"Missing {', '.join(missing)}.", code="offer_invalid")
        values = dict(body)
        values["currency"] = str(values.get("currency") or "usd").lower()
        if values.get("kind") == "membership":
            values.setdefault("interval", "month")
        includes = values.get("includes") or ()
        if not isinstance(includes, list | tuple) or not all(isinstance(i, str) for i in includes):
            raise ValidationFailed("includes must be a list of the ids of what the bundle contains.",
                                   code="offer_invalid")
        values["includes"] = tuple(includes)
        for name in ("title", "kind", "success_url", "currency", "interval", "description", "cancel_url"):
            if name in values and values[name] is not None and not isinstance(values[name], str):
                raise ValidationFailed(f"{name} must be a string.", code="offer_invalid")
        return cls(**values)


@attrs.frozen(kw_only=True)
class Offer:
    """A paid offer on the creator's Stripe account and the link that sells it."""

    id: str
    title: str
    kind: str
    amount: int
    currency: str
    interval: str | None
    active: bool
    checkout_url: str
    created: int
    product_id: str
    price_id: str
    livemode: bool

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


def offer_from(ctx: IntegrationContext, price: Mapping[str, Any], product: Mapping[str, Any]) -> Offer:
    """The offer a Price and its Product on the context's site's account make."""
    assert ctx.tenant is not None
    recurring = price.get("recurring") or {}
    return Offer(id=price["id"], title=str(product["name"]),
                 kind=str((product.get("metadata") or {}).get("intellectra_offer_kind") or "course"),
                 amount=int(price.get("unit_amount") or 0), currency=str(price["currency"]),
                 interval=recurring.get("interval"), active=bool(price["active"] and product["active"]),
                 checkout_url=ctx.url_for(buy_path(ctx.tenant.id, price["id"])), created=int(price["created"]),
                 product_id=str(product["id"]), price_id=str(price["id"]), livemode=bool(price.get("livemode")))


def price_text(offer: Offer) -> str:
    """``USD 49.00``, ``USD 9.00 a month``: what the buyer pays."""
    return shown(offer.amount, offer.currency) + (f" a {offer.interval}" if offer.interval else "")


def selling(ctx: IntegrationContext) -> tuple[Tenant, Connection]:
    """The context's site and its active connection (the account offers are made on)."""
    connection = ctx.connection
    if ctx.tenant is None or connection is None or not connection.is_active:
        raise NotConnected("Stripe is not connected for this site; connect it under Settings > Integrations.")
    guard_mode(ctx.config, connection)
    return ctx.tenant, connection


def buy_path(tenant_id: str, offer_id: str) -> str:
    """An offer's checkout link: the public buyer page (``buyer``)."""
    return f"/integrations/{NAME}/buy/{tenant_id}/{offer_id}"


def create_offer(ctx: IntegrationContext, request: OfferRequest) -> Offer:
    """Create the Product and Price on the account of the context's site, or nothing if it cannot
    take charges (409). ``ctx``: the plugin's context for that site (``ctx.for_tenant(tenant)``)."""
    tenant, connection = selling(ctx)
    config: StripeConnectConfig = ctx.config
    account_id = connection.external_id or ""
    account = read_account(ctx, account_id)
    if not account.get("charges_enabled"):
        status = status_from_account(account, dashboard_url=config.dashboard_for(account_id))
        req = account.get("requirements") or {}
        due = plain_requirements([*(req.get("past_due") or []), *(req.get("currently_due") or [])])
        needs = f" Stripe needs: {'; '.join(due)}." if due else ""
        raise ActionRequired(f"Your Stripe account cannot accept payments yet, so no offer was created. "
                             f"{status.reason}{needs}", code="charges_disabled", action_url=status.action_url)
    client = make_client(ctx)
    options = on_account(account_id)
    metadata = {TENANT_KEY: tenant.id, "intellectra_offer_kind": request.kind,
                "intellectra_success_url": request.success_url,
                "intellectra_cancel_url": request.cancel_url or request.success_url}
    if request.includes:
        metadata["intellectra_includes"] = ",".join(request.includes)
    with stripe_errors("creating the offer", error=ValidationFailed):
        product_params: ProductCreateParams = {"name": request.title, "metadata": metadata}
        if request.description:
            product_params["description"] = request.description
        product = client.v1.products.create(product_params, options)
    price_params: PriceCreateParams = {"product": product.id, "unit_amount": request.amount,
                                    "currency": request.currency, "metadata": {TENANT_KEY: tenant.id}}
    if request.interval:
        price_params["recurring"] = {"interval": request.interval}
    try:
        with stripe_errors("setting the offer's price", error=ValidationFailed):
            price = client.v1.prices.create(price_params, options)
    except ValidationFailed:
        _archive(client, product.id, options)  # no half-made offer: the product is hidden again
        raise
    return offer_from(ctx, price.to_dict(), product.to_dict())


def _archive(client: stripe.StripeClient, product_id: str, options: Any) -> None:
    with contextlib.suppress(stripe.StripeError):  # best effort: without a price nothing can be bought
        client.v1.products.update(product_id, {"active": False}, options)


def application_fee(amount: int, percent: float) -> int:
    """The platform's cut of ``amount`` in the smallest unit, rounded half up."""
    fee = (Decimal(amount) * Decimal(str(percent)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fee)


UNAVAILABLE = "This offer is not available. Ask the creator for a current link."
GONE = "This offer is no longer on sale. Ask the creator whether there is a new one."


@attrs.frozen(kw_only=True)
class Sale:
    """An offer on sale, with what a Checkout Session for it needs."""

    site: IntegrationContext
    tenant: Tenant
    connection: Connection
    price: dict[str, Any]
    product: dict[str, Any]
    offer: Offer


def find_sale(ctx: IntegrationContext, tenant_id: str, offer_id: str) -> Sale:
    """``tenant_id``'s offer ``offer_id`` as a buyer may buy it: 404 when there is no such offer (or the
    site's Stripe is not connected), 410 when it was archived. ``ctx``: the plugin's context (any: the
    buyer is no tenant)."""
    tenant = ctx.find_tenant(tenant_id)
    connection = ctx.connections.find(tenant_id) if tenant else None
    if tenant is None or connection is None or not connection.is_active or not connection.external_id:
        raise NotFound(UNAVAILABLE, code="offer_not_found")
    site = ctx.for_tenant(tenant)
    config: StripeConnectConfig = ctx.config
    guard_mode(config, connection)
    client = make_client(ctx)
    try:
        with stripe_errors("opening the offer", error=ActionRequired):
            price = client.v1.prices.retrieve(offer_id, {"expand": ["product"]},
                                              on_account(connection.external_id)).to_dict()
    except ActionRequired as exc:
        if isinstance(exc.__cause__, stripe.InvalidRequestError):
            raise NotFound(UNAVAILABLE, code="offer_not_found") from exc.__cause__
        raise
    product = price["product"]
    if not isinstance(product, dict) or (product.get("metadata") or {}).get(TENANT_KEY) != tenant.id:
        raise NotFound(UNAVAILABLE, code="offer_not_found")
    if not (price["active"] and product["active"]):
        raise NotFound(GONE, code="offer_inactive", http_status=410)
    return Sale(site=site, tenant=tenant, connection=connection, price=price, product=product,
                offer=offer_from(site, price, product))


def start_checkout(ctx: IntegrationContext, sale: Sale, *, customer_email: str | None = None) -> str:
    """A new Checkout Session for one buyer of ``sale``; returns Stripe's hosted payment page URL."""
    config: StripeConnectConfig = ctx.config
    params = checkout_session_params(config, sale.tenant, sale.price, sale.product, customer_email)
    try:
        with stripe_errors("starting checkout", error=ActionRequired):
            session = make_client(ctx).v1.checkout.sessions.create(
                params, on_account(sale.connection.external_id or ""))
    except ActionRequired as exc:
        if isinstance(exc.__cause__, stripe.InvalidRequestError):
            raise ActionRequired("This creator cannot take payments right now, so checkout could not start. "
                                 "Please try again later.", code="checkout_unavailable") from exc.__cause__
        raise
    return str(session.url)


def checkout_session_params(config: StripeConnectConfig, tenant: Tenant, price: dict[str, Any],
                            product: dict[str, Any], customer_email: str | None) -> SessionCreateParams:
    """A direct-charge session for one unit of ``price``: fee from config, offer in metadata, and no
    ``payment_method_types`` (Apple Pay, Google Pay, PayPal... follow the creator's dashboard settings)."""
    meta = product.get("metadata") or {}
    recurring = price.get("recurring") is not None
    offer_meta = {OFFER_ID_KEY: price["id"], OFFER_TITLE_KEY: str(product["name"])[:500], TENANT_KEY: tenant.id}
    params: SessionCreateParams = {
        "mode": "subscription" if recurring else "payment",
        "line_items": [{"price": price["id"], "quantity": 1}],
        "metadata": offer_meta,
    }
    success_url = meta.get("intellectra_success_url")
    cancel_url = meta.get("intellectra_cancel_url") or success_url
    if isinstance(success_url, str):
        params["success_url"] = success_url
    if isinstance(cancel_url, str):
        params["cancel_url"] = cancel_url
    percent = config.application_fee_percent
    if recurring:
        sub: SessionCreateParamsSubscriptionData = {"metadata": offer_meta}
        if percent > 0:
            sub["application_fee_percent"] = percent
        params["subscription_data"] = sub
    else:
        intent: SessionCreateParamsPaymentIntentData = {"metadata": offer_meta}
        fee = application_fee(int(price.get("unit_amount") or 0), percent)
        if fee > 0:
            intent["application_fee_amount"] = fee
        params["payment_intent_data"] = intent
    if customer_email:
        params["customer_email"] = customer_email
    return params
