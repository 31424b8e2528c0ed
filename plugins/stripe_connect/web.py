"""HTTP routes: the offers API for the creator (create, list, archive), the buyer page behind every
checkout link (``buyer``), and "Finish setup in Stripe" (``finish_setup``)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from core import IntegrationContext, ValidationFailed

from . import buyer, finish_setup
from .info import NAME
from .offer_list import archive_offer, list_offers, parse_limit
from .offers import OfferRequest, create_offer

OFFERS_PATH = f"/api/{NAME}/offers"


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep to parse
        raise ValidationFailed(f"The body is not valid JSON ({exc}); send the offer as a JSON object.",
                               code="invalid_json") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object describing the offer.", code="invalid_json")
    return body


def routes(ctx: IntegrationContext) -> list[BaseRoute]:
    async def create(request: Request) -> Response:
        """Create a paid offer (a Product and Price on the site's Stripe account).

        ---
        operationId: createStripeOffer
        summary: Create a paid offer
        description: >-
          Body: title, kind (course, download, membership, bundle), amount in the currency's smallest
          unit, currency, success_url; optional interval (month, year; memberships), description,
          cancel_url, includes. The amount must be one Stripe charges in that currency (USD 0.50 to
          999,999.99...): else 400 amount_out_of_range naming the limits. 409 charges_disabled while the
          account cannot accept payments.
        responses:
          "201":
            description: The offer, with its checkout_url (the buyer page).
          "400":
            description: A field is invalid (error.field names it).
          "409":
            description: Stripe is not connected, or the account cannot accept payments yet.
        """
        site = await ctx.for_request(request)
        offer_request = OfferRequest.from_json(await _json_body(request))
        offer = await site.run_in_threadpool(create_offer, site, offer_request)
        return JSONResponse({"offer": offer.to_json()}, status_code=201)

    async def offers(request: Request) -> Response:
        """List the site's offers, newest first, read from Stripe.

        ---
        operationId: listStripeOffers
        summary: List the site's offers
        description: >-
          Paginated the way Stripe paginates: limit (1-100, default 10) and starting_after (the id of the
          last offer of the previous page); has_more says whether there are more. Each offer: id, title,
          kind, amount, currency, interval, active (false once archived), checkout_url, created.
        parameters:
          - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 100}}
          - {name: starting_after, in: query, required: false, schema: {type: string}}
        responses:
          "200":
            description: '{"object": "list", "data": [offers], "has_more": bool, "url": "/api/stripe_connect/offers"}'
          "400":
            description: An invalid limit or cursor.
          "409":
            description: Stripe is not connected for this site.
        """
        site = await ctx.for_request(request)
        limit = parse_limit(request.query_params.get("limit"))
        page = await site.run_in_threadpool(list_offers, site, limit=limit,
                                            starting_after=request.query_params.get("starting_after") or None)
        return JSONResponse(page.to_json(OFFERS_PATH))

    async def archive(request: Request) -> Response:
        """Archive an offer: its checkout link stops selling (the product stays in Stripe, inactive).

        ---
        operationId: archiveStripeOffer
        summary: Archive an offer
        responses:
          "200":
            description: The offer, now with active false (archiving twice changes nothing).
          "404":
            description: No such offer on this site's Stripe account.
        """
        site = await ctx.for_request(request)
        offer = await site.run_in_threadpool(archive_offer, site, request.path_params["offer_id"])
        return JSONResponse({"offer": offer.to_json()})

    return [
        Route(OFFERS_PATH, create, methods=["POST"]),
        Route(OFFERS_PATH, offers, methods=["GET"]),
        Route(f"{OFFERS_PATH}/{{offer_id}}/archive", archive, methods=["POST"]),
        *buyer.routes(ctx),
        *finish_setup.routes(ctx),
    ]
