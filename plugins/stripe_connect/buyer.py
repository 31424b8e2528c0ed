"""The public page behind every checkout link: what is sold, its price, and a Buy button.

``GET`` shows the offer and never talks to Stripe's Checkout: reloading, link previews and crawlers
create nothing. ``POST`` (the Buy button) creates one Checkout Session and sends the buyer to Stripe's
payment page; each visitor (address) may do so a few times a minute per offer, counted in the database
(``ctx.rate_limits``) so every ``serve`` process shares the count. An archived offer answers 410 and an
unknown one 404, as a page a buyer understands; JSON only for clients that ask for it
(``Accept: application/json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core import IntegrationContext, IntellectraError

from .info import NAME
from .offers import Sale, find_sale, price_text, start_checkout

TEMPLATES = Path(__file__).parent / "templates"
BUYS_PER_MINUTE = 5
"""Checkout Sessions one visitor may start for one offer per minute (a buyer retrying is well inside it)."""

BUY_PATH = f"/integrations/{NAME}/buy/{{tenant_id}}/{{offer_id}}"
OLD_CHECKOUT_PATH = f"/api/{NAME}/checkout/{{tenant_id}}/{{offer_id}}"
"""Where checkout links pointed before the buyer page: still answered, with a redirect to the page."""

TITLES = {404: "This offer is not available", 410: "This offer is no longer on sale",
          409: "Payments are paused", 429: "One moment, please", 503: "Payments are unavailable right now"}


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def visitor(request: Request) -> str:
    """Who is buying, for the limit: the client's address (behind a proxy, the proxy's: set
    ``--forwarded-allow-ips`` on the server so it is the buyer's)."""
    address = request.scope.get("client")  # (address, port) as the server saw it
    return str(address[0]) if address else "unknown"


def offer_json(sale: Sale) -> dict[str, Any]:
    offer = sale.offer
    return {"offer": {"id": offer.id, "title": offer.title, "kind": offer.kind, "amount": offer.amount,
                      "currency": offer.currency, "interval": offer.interval, "seller": sale.tenant.name}}


def routes(ctx: IntegrationContext) -> list[BaseRoute]:
    def problem(request: Request, exc: IntellectraError, *, headers: dict[str, str] | None = None) -> Response:
        status = exc.http_status if exc.http_status in TITLES else 404
        if wants_json(request):
            return JSONResponse(exc.to_json(), status_code=status, headers=headers)
        response = ctx.render_page(request, TEMPLATES, "offer_problem.html",
                                   {"title": TITLES[status], "message": exc.message}, status_code=status)
        response.headers.update(headers or {})
        return response

    async def page(request: Request) -> Response:
        """A checkout link: the offer's title and price, and a Buy button (nothing is created at Stripe)."""
        try:
            sale = await ctx.run_in_threadpool(find_sale, ctx, request.path_params["tenant_id"],
                                           request.path_params["offer_id"])
        except IntellectraError as exc:
            return problem(request, exc)
        if wants_json(request):
            return JSONResponse(offer_json(sale))
        return ctx.render_page(request, TEMPLATES, "buy.html", {"sale": sale, "price": price_text(sale.offer),
                                                                  "offer": sale.offer, "buy_url": request.url.path})

    async def buy(request: Request) -> Response:
        """Buy: one Checkout Session on the creator's account, then Stripe's payment page (303)."""
        tenant_id, offer_id = request.path_params["tenant_id"], request.path_params["offer_id"]
        try:
            wait = await ctx.run_in_threadpool(ctx.rate_limits.hit, f"buy:{tenant_id}:{offer_id}:{visitor(request)}",
                                           per_minute=BUYS_PER_MINUTE)
            if wait:
                return problem(request, IntellectraError(
                    f"Too many tries to buy this in a short time. Please wait {wait} seconds, then press Buy again.",
                    code="rate_limited", http_status=429), headers={"Retry-After": str(wait)})
            sale = await ctx.run_in_threadpool(find_sale, ctx, tenant_id, offer_id)
            url = await ctx.run_in_threadpool(start_checkout, ctx, sale)
        except IntellectraError as exc:
            return problem(request, exc)
        if wants_json(request):
            return JSONResponse({"url": url})
        return RedirectResponse(url, status_code=303)

    async def old_link(request: Request) -> Response:
        """A checkout link from before the buyer page: redirected to it (308), so shared links keep working."""
        path = BUY_PATH.format(**request.path_params)
        return RedirectResponse(ctx.url_for(path), status_code=308)

    return [
        Route(BUY_PATH, page, methods=["GET"]),
        Route(BUY_PATH, buy, methods=["POST"]),
        Route(OLD_CHECKOUT_PATH, old_link, methods=["GET"]),
    ]
