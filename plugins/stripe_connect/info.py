"""The integration's declaration: what the settings page shows (the connect buttons, the offer form) and
what the plugin can do."""

from __future__ import annotations

from core import Capability, CardForm, Choice, ConnectOption, Field, IntegrationInfo

from .config import StripeConnectConfig
from .money import limits_text

NAME = "stripe_connect"
OAUTH = "oauth"
ONBOARDING = "onboarding"

CREATE_OFFER = "create_offer"
ARCHIVE_OFFER = "archive_offer"
CURRENCY_NAMES = {"usd": "US dollar", "eur": "Euro", "gbp": "British pound", "cad": "Canadian dollar",
                  "aud": "Australian dollar"}
CURRENCIES = tuple(Choice(value=code, label=f"{name} ({code.upper()}): {limits_text(code)}")
                   for code, name in CURRENCY_NAMES.items())
"""The form's currencies, each with what Stripe charges in it (the API takes every currency in ``money``)."""
MEMBERSHIP = "membership"
KIND_CHOICES = (Choice(value="course", label="Course"), Choice(value="download", label="Download"),
                Choice(value=MEMBERSHIP, label="Membership (billed monthly)"), Choice(value="bundle", label="Bundle"))
PRICE_LABEL = "Price"
SUCCESS_LABEL = "After paying, send buyers to"

OFFER_FORM = CardForm(
    name=CREATE_OFFER,
    title="Create a paid offer",
    help="You get a checkout link to share: buyers pay on Stripe's page and the money goes to your Stripe account.",
    submit_label="Create offer",
    fields=[
        Field(name="title", label="Title", required=True, help="What buyers see at checkout."),
        Field(name="kind", label="What you sell", required=True, choices=KIND_CHOICES),
        Field(name="currency", label="Currency", required=True, choices=CURRENCIES),
        Field(name="price", label=PRICE_LABEL, type="number", required=True,
              help="In the currency above, for example 49 or 49.90; a membership's price is charged every month. "
                   "Stripe charges at least 0.50 (GBP 0.30) and at most 999,999.99."),
        Field(name="success_url", label=SUCCESS_LABEL, type="url", required=True,
              help="A page on your site, e.g. https://yoursite.com/welcome."),
    ],
)
"""The card's form for selling something; ``card.submit`` turns a submission into an offer."""

ARCHIVE_FORM = CardForm(name=ARCHIVE_OFFER, title="Archive an offer", submit_label="Archive", listed=False,
                        fields=[Field(name="offer_id", label="Offer", required=True)])
"""Submitted by the Archive button on an offer's row of the card (``details``), never shown on its own."""


def integration_info() -> IntegrationInfo:
    return IntegrationInfo(
        name=NAME,
        title="Stripe",
        description="Take payments for your courses, downloads and memberships; the money goes straight into "
                    "your own Stripe account.",
        requires_host="2.*",
        config=StripeConnectConfig,
        capabilities={Capability.CONNECT, Capability.STATUS, Capability.WEBHOOKS, Capability.DOMAIN_EVENTS},
        connect_options=[
            ConnectOption(name=OAUTH, label="I have a Stripe account",
                          help="Sign in to Stripe and choose the account to connect."),
            ConnectOption(name=ONBOARDING, label="Create a new account",
                          help="Stripe asks for your business and bank details, then brings you back here."),
        ],
        card_forms=[OFFER_FORM, ARCHIVE_FORM],
        docs_url="docs/plugins/stripe_connect.md",
    )
