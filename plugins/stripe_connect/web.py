"""HTTP routes: ``POST /api/stripe_connect/offers`` for the creator, the checkout link for buyers."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core import IntegrationContext, ValidationFailed

from .info import NAME
from .offers import OfferRequest, create_offer, start_checkout


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
        site = await ctx.for_request(request)
        offer_request = OfferRequest.from_json(await _json_body(request))
        offer = await site.run_in_threadpool(create_offer, site, offer_request)
        return JSONResponse({"offer": offer.to_json()}, status_code=201)

    async def checkout(request: Request) -> Response:
        url = await ctx.run_in_threadpool(start_checkout, ctx, request.path_params["tenant_id"],
                                          request.path_params["offer_id"],
                                          customer_email=request.query_params.get("email") or None)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"url": url})
        return RedirectResponse(url, status_code=303)

    return [
        Route(f"/api/{NAME}/offers", create, methods=["POST"]),
        Route(f"/api/{NAME}/checkout/{{tenant_id}}/{{offer_id}}", checkout, methods=["GET"]),
    ]
