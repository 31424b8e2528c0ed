"""A made connection's life after connecting: refreshing its status, and disconnecting it at Stripe."""

from __future__ import annotations

from stripe.oauth_error import InvalidClientError  # a submodule: `import stripe` alone does not load it

from core import ConnectError, Connection, ConnectionStatus, IntegrationContext

from .client import is_revoked, make_client, platform, stripe_errors
from .config import StripeConnectConfig
from .connect_flow import fetch_account
from .info import OAUTH
from .status import revoked_status, status_from_account


def mode_name(livemode: bool | None) -> str:
    return "live" if livemode else "test"


def guard_mode(config: StripeConnectConfig, connection: Connection) -> None:
    """Test-mode keys never act on live connections (nor live keys on test ones)."""
    if connection.livemode is not None and connection.livemode != config.livemode:
        raise ConnectError(
            f"This connection was made in Stripe {mode_name(connection.livemode)} mode, but the site now runs with "
            f"a {mode_name(config.livemode)}-mode key, so it was left alone. Use the matching key, or disconnect "
            "and connect again.", code="stripe_mode_mismatch", http_status=409)


def refresh_status(ctx: IntegrationContext, connection: Connection) -> ConnectionStatus:
    """Ask Stripe for the account now; a lost grant is ``needs_reauth``, an outage changes nothing (503)."""
    config: StripeConnectConfig = ctx.config
    guard_mode(config, connection)
    account_id = connection.external_id or ""
    dashboard = config.dashboard_for(account_id)
    try:
        with stripe_errors("checking your Stripe account"):
            account = fetch_account(ctx, account_id)
    except ConnectError as exc:
        if is_revoked(exc.__cause__ or exc):
            return revoked_status(dashboard)
        raise
    status = status_from_account(account, dashboard_url=dashboard)
    ctx.update_data(**status.details)
    return status


def disconnect(ctx: IntegrationContext, connection: Connection) -> None:
    """Deauthorize an OAuth grant at Stripe; harmless when Stripe already forgot it.

    Accounts created through onboarding stay with their owner; the host forgets them here.
    """
    config: StripeConnectConfig = ctx.config
    if connection.data.get("connect_method") != OAUTH or not connection.external_id:
        return
    guard_mode(config, connection)
    try:
        with stripe_errors("disconnecting your Stripe account"):
            make_client(ctx).oauth.deauthorize(
                {"client_id": config.client_id, "stripe_user_id": connection.external_id}, platform())
    except ConnectError as exc:
        if isinstance(exc.__cause__, InvalidClientError):
            ctx.log.info("Stripe had already disconnected %s", connection.external_id)
            return
        raise
