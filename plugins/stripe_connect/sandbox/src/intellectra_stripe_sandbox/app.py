"""``create_sandbox_app``: the Starlette app serving Stripe's API (``/v1``), Connect OAuth (``/oauth``), the
hosted pages (authorize, onboarding, dashboard, checkout) and the test controls (``/_sandbox``).

The API and Connect bases are the same server, so a client points both ``base_addresses`` at its URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import accounts, balance, catalog, checkout, control, events, oauth, pages, payments
from .api import unrecognized
from .pages import error_page
from .state import Sandbox


def api_routes() -> list[Route]:
    get, post = ["GET"], ["POST"]
    return [
        Route("/v1/account", accounts.retrieve_own_account, methods=get),
        Route("/v1/accounts", accounts.create_account, methods=post),
        Route("/v1/accounts", accounts.list_accounts, methods=get),
        Route("/v1/accounts/{id}", accounts.retrieve_account, methods=get),
        Route("/v1/accounts/{id}", accounts.update_account, methods=post),
        Route("/v1/account_links", accounts.create_account_link, methods=post),
        Route("/v1/products", catalog.create_product, methods=post),
        Route("/v1/products", catalog.list_products, methods=get),
        Route("/v1/products/{id}", catalog.retrieve_product, methods=get),
        Route("/v1/products/{id}", catalog.update_product, methods=post),
        Route("/v1/prices", catalog.create_price, methods=post),
        Route("/v1/prices", catalog.list_prices, methods=get),
        Route("/v1/prices/{id}", catalog.retrieve_price, methods=get),
        Route("/v1/prices/{id}", catalog.update_price, methods=post),
        Route("/v1/checkout/sessions", checkout.create_session, methods=post),
        Route("/v1/checkout/sessions/{id}", checkout.retrieve_session, methods=get),
        Route("/v1/checkout/sessions/{id}/expire", checkout.expire_session, methods=post),
        Route("/v1/checkout/sessions/{id}/line_items", checkout.list_line_items, methods=get),
        Route("/v1/refunds", payments.create_refund, methods=post),
        Route("/v1/refunds/{id}", payments.retrieve_refund, methods=get),
        Route("/v1/charges/{id}", payments.retrieve_charge, methods=get),
        Route("/v1/payment_intents/{id}", payments.retrieve_payment_intent, methods=get),
        Route("/v1/balance", balance.retrieve_balance, methods=get),
        Route("/v1/disputes", balance.list_disputes, methods=get),
        Route("/v1/disputes/{id}", payments.retrieve_dispute, methods=get),
        Route("/v1/payouts", balance.list_payouts, methods=get),
        Route("/v1/payouts/{id}", payments.retrieve_payout, methods=get),
        Route("/v1/events", events.list_events, methods=get),
        Route("/v1/events/{id}", events.retrieve_event, methods=get),
    ]


def page_routes() -> list[Route]:
    get, post = ["GET"], ["POST"]
    return [
        Route("/oauth/authorize", oauth.authorize, methods=get),
        Route("/oauth/authorize/{request_id}/signin", oauth.sign_in, methods=post),
        Route("/oauth/authorize/{request_id}/register", oauth.register, methods=post),
        Route("/oauth/authorize/{request_id}/decide", oauth.decide, methods=post),
        Route("/oauth/token", oauth.token, methods=post),
        Route("/oauth/deauthorize", oauth.deauthorize_endpoint, methods=post),
        Route("/setup/s/{account}/{token}", pages.onboarding_link, methods=get),
        Route("/setup/session/{session_id}", pages.onboarding_submit, methods=post),
        Route("/dashboard", pages.dashboard_index, methods=get),
        Route("/dashboard/{account}", pages.dashboard, methods=get),
        Route("/dashboard/{account}/{action}", pages.dashboard_action, methods=post),
        Route("/dashboard/{account}/{section:path}", pages.dashboard, methods=get),
        Route("/checkout/pay/{session_id}", checkout.pay_page, methods=get),
        Route("/checkout/pay/{session_id}", checkout.pay_submit, methods=post),
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    """Stripe's JSON 404 under ``/v1`` (also for a wrong method); an HTML page elsewhere."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if request.url.path.startswith("/v1"):
        return unrecognized(request)
    return error_page(request, "Page not found." if status in (404, 405) else "Server error.", status=status)


def create_sandbox_app(**settings: Any) -> Starlette:
    """Build a sandbox app from ``Sandbox``'s settings (``secret_key``, ``client_id``, ``redirect_uris``,
    ``webhook_endpoints``...); its state is ``app.state.sandbox``, closed on app shutdown."""
    sandbox = Sandbox(**settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.close()

    app = Starlette(
        routes=[*api_routes(), *page_routes(), *control.routes()],
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
