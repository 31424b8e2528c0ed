"""The site's offers, read from Stripe (the store of record), and archiving one.

An offer is a Price on the creator's account whose metadata names the site (``intellectra_tenant``),
with its Product (title, kind) expanded. Prices the creator made by hand in Stripe carry no such
metadata and are not offers here. The list pages like Stripe's own lists: newest first, ``limit``
(1-100, default 10), ``starting_after`` (the last offer id of the previous page) and ``has_more``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import stripe
from stripe.params import PriceListParams

from core import IntegrationContext, NotFound, ValidationFailed

from .client import make_client, on_account, stripe_errors
from .handlers import TENANT_KEY
from .offers import Offer, buy_path, offer_from, selling

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
STRIPE_PAGE = 100
"""Prices asked of Stripe per request while filling a page (its largest page: the fewest round trips)."""


@attrs.frozen(kw_only=True)
class OfferPage:
    offers: list[Offer]
    has_more: bool

    def to_json(self, url: str) -> dict[str, Any]:
        return {"object": "list", "data": [o.to_json() for o in self.offers], "has_more": self.has_more, "url": url}


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw!r}.",
                               code="invalid_limit", field="limit")
    return int(raw)


def _prices(client: stripe.StripeClient, options: Any, starting_after: str | None) -> Iterator[dict[str, Any]]:
    """Every price on the account from ``starting_after`` on, newest first, a Stripe page at a time."""
    cursor = starting_after
    while True:
        params: PriceListParams = {"limit": STRIPE_PAGE, "expand": ["data.product"]}
        if cursor:
            params["starting_after"] = cursor
        with stripe_errors("listing your offers", error=ValidationFailed):
            page = client.v1.prices.list(params, options)
        for price in page.data:
            cursor = price.id
            yield price.to_dict()
        if not page.has_more:
            return


def list_offers(ctx: IntegrationContext, *, limit: int = DEFAULT_LIMIT, starting_after: str | None = None) -> OfferPage:
    """One page of the context's site's offers (archived ones included, marked ``active: false``)."""
    tenant, connection = selling(ctx)
    client = make_client(ctx)
    found: list[Offer] = []
    try:
        for price in _prices(client, on_account(connection.external_id or ""), starting_after):
            if (price.get("metadata") or {}).get(TENANT_KEY) != tenant.id or not isinstance(price["product"], dict):
                continue
            found.append(offer_from(ctx, price, price["product"]))
            if len(found) > limit:  # one more than asked: there is a next page
                break
    except ValidationFailed as exc:
        if isinstance(exc.__cause__, stripe.InvalidRequestError) and starting_after:
            raise ValidationFailed(f"starting_after: {starting_after!r} is not one of your offers; pass the id of "
                                   "the last offer of the previous page.", code="invalid_cursor",
                                   field="starting_after") from exc.__cause__
        raise
    return OfferPage(offers=found[:limit], has_more=len(found) > limit)


def archive_offer(ctx: IntegrationContext, offer_id: str) -> Offer:
    """Stop selling an offer: its Product (and Price) are set ``active: false`` in Stripe, so its link
    shows buyers that it is no longer on sale. Archiving an archived offer changes nothing."""
    tenant, connection = selling(ctx)
    client = make_client(ctx)
    options = on_account(connection.external_id or "")
    try:
        with stripe_errors("finding the offer", error=ValidationFailed):
            price = client.v1.prices.retrieve(offer_id, {"expand": ["product"]}, options).to_dict()
    except ValidationFailed as exc:
        if isinstance(exc.__cause__, stripe.InvalidRequestError):
            raise NotFound(f"No offer {offer_id!r} on this site's Stripe account.", code="offer_not_found",
                           field="offer_id") from exc.__cause__
        raise
    product = price["product"]
    if not isinstance(product, dict) or (price.get("metadata") or {}).get(TENANT_KEY) != tenant.id:
        raise NotFound(f"No offer {offer_id!r} on this site's Stripe account.", code="offer_not_found",
                       field="offer_id")
    with stripe_errors("archiving the offer", error=ValidationFailed):
        if product["active"]:
            product = client.v1.products.update(product["id"], {"active": False}, options).to_dict()
        if price["active"]:
            price = client.v1.prices.update(price["id"], {"active": False}, options).to_dict()
    return offer_from(ctx, price, product)


__all__ = ["OfferPage", "archive_offer", "buy_path", "list_offers", "parse_limit"]
