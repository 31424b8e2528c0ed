"""Stripe's card forms (declared in ``info``): "Create a paid offer", and "Archive" on an offer's row.

The offer form speaks the creator's language (a price like ``49.90``, "Membership (billed monthly)");
this module translates it into an :class:`~plugins.stripe_connect.offers.OfferRequest` and creates the
offer exactly as ``POST /api/stripe_connect/offers`` does, so the page and the API sell the same way.
A price Stripe would refuse to charge is refused here first, naming the currency's limits.
"""

from __future__ import annotations

from collections.abc import Mapping

from core import CardFormResult, IntegrationContext, NotFound, ValidationFailed

from .info import ARCHIVE_OFFER, CREATE_OFFER, MEMBERSHIP, PRICE_LABEL, SUCCESS_LABEL
from .money import amount_from_price
from .offer_list import archive_offer
from .offers import Offer, OfferRequest, create_offer, price_text


def offer_request(values: Mapping[str, str]) -> OfferRequest:
    """The form's values (already checked by the host for required fields and choices) as an offer."""
    success_url = values["success_url"]
    if not success_url.startswith(("https://", "http://")):
        raise ValidationFailed(f"{SUCCESS_LABEL}: enter a full web address starting with https://, e.g. "
                               "https://yoursite.com/welcome.", code="offer_invalid", field="success_url")
    kind = values["kind"]
    currency = values["currency"]
    return OfferRequest(title=values["title"], kind=kind,
                        amount=amount_from_price(values["price"], currency, label=PRICE_LABEL, field="price"),
                        currency=currency, interval="month" if kind == MEMBERSHIP else None, success_url=success_url)


def describe(offer: Offer) -> str:
    return (f"Offer “{offer.title}” created ({price_text(offer)}). Its checkout link is in Your offers below: "
            "share it with your buyers.")


def submit(ctx: IntegrationContext, form_name: str, values: Mapping[str, str]) -> CardFormResult:
    if form_name == ARCHIVE_OFFER:
        offer = archive_offer(ctx, values.get("offer_id", ""))
        return CardFormResult(message=f"“{offer.title}” is archived: its checkout link no longer sells it.",
                              data=offer.to_json())
    if form_name != CREATE_OFFER:  # the host only passes declared forms; this guards a stale declaration
        raise NotFound(f"Stripe has no form named {form_name!r}.", code="card_form_not_found")
    offer = create_offer(ctx, offer_request(values))
    return CardFormResult(message=describe(offer), link_url=offer.checkout_url, link_label="Open its checkout page",
                          data=offer.to_json())
