"""The "Create a paid offer" form on Stripe's card (declared in ``info``): a submission turned into an offer.

The form speaks the creator's language (a price like ``49.90``, "Membership (billed monthly)"); this
module translates it into an :class:`~plugins.stripe_connect.offers.OfferRequest` and creates the offer
exactly as ``POST /api/stripe_connect/offers`` does, so the page and the API sell the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from core import CardFormResult, IntegrationContext, NotFound, ValidationFailed

from .info import CREATE_OFFER, MEMBERSHIP, PRICE_LABEL, SUCCESS_LABEL
from .offers import Offer, OfferRequest, create_offer


def amount_from_price(price: str) -> int:
    """``"49.90"`` → ``4990``: a positive price with at most two decimals, in the smallest unit."""
    try:
        value = Decimal(price)
        cents = value.quantize(Decimal("0.01")) if value.is_finite() else None
    except InvalidOperation:  # not a number, or too many digits to be a price (1e30)
        value, cents = Decimal(0), None
    if cents is None or value <= 0 or value != cents:
        raise ValidationFailed(f"{PRICE_LABEL}: enter an amount above 0 with at most two decimals, like 49 or "
                               f"49.90 (no currency sign), not {price!r}.", code="offer_invalid")
    return int(value * 100)


def offer_request(values: Mapping[str, str]) -> OfferRequest:
    """The form's values (already checked by the host for required fields and choices) as an offer."""
    success_url = values["success_url"]
    if not success_url.startswith(("https://", "http://")):
        raise ValidationFailed(f"{SUCCESS_LABEL}: enter a full web address starting with https://, e.g. "
                               "https://yoursite.com/welcome.", code="offer_invalid")
    kind = values["kind"]
    return OfferRequest(title=values["title"], kind=kind, amount=amount_from_price(values["price"]),
                        currency=values["currency"], interval="month" if kind == MEMBERSHIP else None,
                        success_url=success_url)


def describe(offer: Offer) -> str:
    price = f"{offer.amount / 100:,.2f} {offer.currency.upper()}" + (f" a {offer.interval}" if offer.interval else "")
    return f"Offer “{offer.title}” created ({price}). Share its checkout link with your buyers."


def submit(ctx: IntegrationContext, form_name: str, values: Mapping[str, str]) -> CardFormResult:
    if form_name != CREATE_OFFER:  # the host only passes declared forms; this guards a stale declaration
        raise NotFound(f"Stripe has no form named {form_name!r}.", code="card_form_not_found")
    offer = create_offer(ctx, offer_request(values))
    return CardFormResult(message=describe(offer), link_url=offer.checkout_url, link_label="Open its checkout page",
                          data=offer.to_json())
