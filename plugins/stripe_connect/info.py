"""The integration's declaration: what the settings page shows and what the plugin can do."""

from __future__ import annotations

from core import Capability, ConnectOption, IntegrationInfo

from .config import StripeConnectConfig

NAME = "stripe_connect"
OAUTH = "oauth"
ONBOARDING = "onboarding"


def integration_info() -> IntegrationInfo:
    return IntegrationInfo(
        name=NAME,
        title="Stripe",
        description="Take payments for your courses, downloads and memberships; the money goes straight into "
                    "your own Stripe account.",
        requires_host="1.*",
        config=StripeConnectConfig,
        capabilities={Capability.CONNECT, Capability.STATUS, Capability.WEBHOOKS, Capability.DOMAIN_EVENTS},
        connect_options=[
            ConnectOption(name=OAUTH, label="I have a Stripe account",
                          help="Sign in to Stripe and choose the account to connect."),
            ConnectOption(name=ONBOARDING, label="Create a new account",
                          help="Stripe asks for your business and bank details, then brings you back here."),
        ],
        docs_url="docs/plugins/stripe_connect.md",
    )
