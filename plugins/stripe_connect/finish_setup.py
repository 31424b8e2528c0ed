""""Finish setup in Stripe": resume Stripe's onboarding for an account created here.

Stripe's hosted onboarding collects what its ``requirements`` list as due. An Account Link is single
use and expires within minutes, so it is made when the creator presses the button (``POST``), and again
whenever Stripe sends them back to ``refresh_url`` (``GET``, as Stripe's docs prescribe: an expired or
revisited link). Afterwards Stripe returns them to Settings > Integrations; ``account.updated`` brings the
new state. An existing account connected through OAuth is finished in its own dashboard instead (the
card links there): Stripe makes Account Links only for accounts the platform created.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core import IntegrationContext, NotConnected, ValidationFailed

from .client import make_client, platform, stripe_errors
from .config import StripeConnectConfig
from .details import FINISH_SETUP_PATH
from .info import NAME, OAUTH

SETTINGS = f"/settings/integrations#{NAME}"


def onboarding_link(site: IntegrationContext) -> str:
    """A fresh Account Link to Stripe's onboarding for the site's account (collecting what is due now)."""
    connection = site.connection
    if connection is None or not connection.is_active or not connection.external_id:
        raise NotConnected("Stripe is not connected for this site; connect it under Settings > Integrations.")
    config: StripeConnectConfig = site.config
    if connection.data.get("connect_method") == OAUTH:
        raise ValidationFailed("This Stripe account was connected from its own login: finish its setup in your "
                               "Stripe dashboard.", code="finish_in_dashboard",
                               action_url=config.dashboard_for(connection.external_id))
    with stripe_errors("preparing Stripe's setup page"):
        link = make_client(site).v1.account_links.create({
            "account": connection.external_id,
            "type": "account_onboarding",
            "collection_options": {"fields": "currently_due"},
            "refresh_url": site.url_for(FINISH_SETUP_PATH),
            "return_url": site.url_for(SETTINGS),
        }, platform())
    return str(link.url)


def routes(ctx: IntegrationContext) -> list[BaseRoute]:
    async def finish(request: Request) -> Response:
        """Send the signed-in creator to Stripe's onboarding for their account (303)."""
        site = await ctx.for_request(request)
        return RedirectResponse(await site.run_in_threadpool(onboarding_link, site), status_code=303)

    return [Route(FINISH_SETUP_PATH, finish, methods=["GET", "POST"])]
