"""Connecting a creator's Stripe account: OAuth for an existing account, Connect Onboarding for a new one.

The host owns the connect ``state`` (single use, expiring, tenant-bound) and checks it before
``complete`` runs; this module talks to Stripe and decides what the creator sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe.oauth_error import InvalidGrantError  # a submodule: `import stripe` alone does not load it

from core import Connected, ConnectError, ConnectionState, ConnectionStatus, IntegrationContext, Redirect, Tenant

from .client import make_client, platform, stripe_errors
from .config import StripeConnectConfig
from .info import OAUTH, ONBOARDING
from .status import status_from_account

ONBOARDING_PARAM = "stripe_onboarding"
"""Marks a callback as the return from (``return``) or the expiry of (``refresh``) an Account Link."""


ONBOARDING_STATE_TTL = 24 * 3600
"""Seconds a creator may spend in Stripe's onboarding before the return link expires."""


def _config(ctx: IntegrationContext) -> StripeConnectConfig:
    config: StripeConnectConfig = ctx.config
    return config


def start(ctx: IntegrationContext, tenant: Tenant, form: Mapping[str, str], state: str) -> Redirect:
    """Send the creator to Stripe: the OAuth authorize page, or onboarding for a brand-new account."""
    if form.get("option", OAUTH) == ONBOARDING:
        return _start_onboarding(ctx, tenant, state)
    config = _config(ctx)
    url = make_client(ctx).oauth.authorize_url({
        "client_id": config.client_id,
        "response_type": "code",
        "scope": "read_write",
        "redirect_uri": ctx.callback_url(),
        "state": state,
        "stripe_landing": "login",
    })
    return Redirect(url=url, state_data={"method": OAUTH})


def _start_onboarding(ctx: IntegrationContext, tenant: Tenant, state: str) -> Redirect:
    client = make_client(ctx)
    with stripe_errors("creating your Stripe account"):
        account = client.v1.accounts.create({
            "controller": {
                "stripe_dashboard": {"type": "full"},
                "fees": {"payer": "account"},
                "losses": {"payments": "stripe"},
                "requirement_collection": "stripe",
            },
            "metadata": {"intellectra_tenant": tenant.id},
        }, platform())
    return _account_link(ctx, account.id, state)


def _account_link(ctx: IntegrationContext, account_id: str, state: str) -> Redirect:
    client = make_client(ctx)
    with stripe_errors("preparing Stripe's onboarding page"):
        link = client.v1.account_links.create({
            "account": account_id,
            "type": "account_onboarding",
            "refresh_url": ctx.callback_url(state=state, **{ONBOARDING_PARAM: "refresh"}),
            "return_url": ctx.callback_url(state=state, **{ONBOARDING_PARAM: "return"}),
        }, platform())
    # Onboarding asks for identity documents and a bank account: give the creator a day, not minutes.
    return Redirect(url=link.url, state_data={"method": ONBOARDING, "account_id": account_id},
                    state_ttl_seconds=ONBOARDING_STATE_TTL)


def complete(ctx: IntegrationContext, params: Mapping[str, str], state_data: Mapping[str, Any],
             state: str) -> Connected | Redirect:
    """Finish what ``start`` began; ``state`` is a fresh one for a new Account Link if needed."""
    if state_data.get("method") == ONBOARDING:
        account_id = str(state_data["account_id"])
        if params.get(ONBOARDING_PARAM) == "refresh":  # the link expired or was already used: a new one
            return _account_link(ctx, account_id, state)
        return _connected(ctx, account_id, method=ONBOARDING)
    return _complete_oauth(ctx, params)


def _complete_oauth(ctx: IntegrationContext, params: Mapping[str, str]) -> Connected:
    error = params.get("error")
    if error == "access_denied":
        raise ConnectError("You cancelled on Stripe's page, so nothing was connected. You can connect Stripe "
                           "whenever you are ready.", code="access_denied")
    if error:
        detail = params.get("error_description") or error
        raise ConnectError(f"Stripe could not connect your account ({detail}). Start again from Settings > "
                           "Integrations.", code=f"stripe_{error}")
    code = params.get("code")
    if not code:
        raise ConnectError("Stripe sent you back without an authorization code. Start again from Settings > "
                           "Integrations.", code="code_missing")
    client = make_client(ctx)
    try:
        with stripe_errors("connecting your account"):
            token = client.oauth.token({"grant_type": "authorization_code", "code": code}, platform()).to_dict()
    except ConnectError as exc:
        if isinstance(exc.__cause__, InvalidGrantError):
            raise ConnectError("This Stripe authorization was already used or has expired. Press Connect "
                               "again to get a new one.", code="invalid_grant") from exc.__cause__
        raise
    secrets = {"access_token": token["access_token"]}
    if token.get("refresh_token"):
        secrets["refresh_token"] = token["refresh_token"]
    return _connected(ctx, token["stripe_user_id"], method=OAUTH, secrets=secrets,
                      scope=token.get("scope"), livemode=bool(token.get("livemode")))


def _connected(ctx: IntegrationContext, account_id: str, *, method: str, secrets: Mapping[str, str] | None = None,
               scope: str | None = None, livemode: bool | None = None) -> Connected:
    """The connection with the account's current status (an unreadable account is stored as ``error``)."""
    config = _config(ctx)
    dashboard = config.dashboard_for(account_id)
    data: dict[str, Any] = {"account_id": account_id, "connect_method": method}
    if scope:
        data["scope"] = scope
    try:
        account = read_account(ctx, account_id)
    except ConnectError as exc:
        if not secrets:  # onboarding: nothing was granted yet that would be lost
            raise
        status = ConnectionStatus(state=ConnectionState.ERROR, action_url=dashboard,
                                  reason=f"Connected, but the account could not be read: {exc.message}")
    else:
        status = status_from_account(account, dashboard_url=dashboard)
        data.update(status.details)
        data["business_name"] = (account.get("business_profile") or {}).get("name")
    return Connected(external_id=account_id, secrets=dict(secrets or {}), data=data,
                     livemode=config.livemode if livemode is None else livemode, status=status)


def read_account(ctx: IntegrationContext, account_id: str) -> dict[str, Any]:
    """The account as plain data, with Stripe's failures as a :class:`core.ConnectError`."""
    with stripe_errors("reading your Stripe account"):
        return fetch_account(ctx, account_id)


def fetch_account(ctx: IntegrationContext, account_id: str) -> dict[str, Any]:
    """The account as plain data, re-fetched (never trust a webhook's snapshot or its order).

    Raises Stripe's own errors: ``client.is_revoked(exc)`` tells a lost grant from an outage.
    """
    account = make_client(ctx).v1.accounts.retrieve(account_id, options=platform())
    return account.to_dict()
