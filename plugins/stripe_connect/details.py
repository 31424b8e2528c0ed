"""The Stripe card for one site (the ``card_details`` hook): read from Stripe with the connected account.

Who is connected (name or email, account id, Test or Live, since when, whether payments and payouts
work), what Stripe still needs (a list in plain words, shown once, with "Finish setup in Stripe"), the
offers with their checkout links, and money at a glance: available and pending balance, the next and
recent payouts, open disputes with the date to respond by. The platform is not an intermediary: each
thing links into the creator's own Stripe dashboard, where they act on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from core import (
    Action,
    CardDetails,
    Connection,
    Fact,
    IntegrationContext,
    Link,
    Row,
    RowAction,
    Section,
    Table,
    Tone,
)

from .client import make_client, on_account, stripe_errors
from .config import StripeConnectConfig
from .connect_flow import read_account
from .info import ARCHIVE_OFFER, CREATE_OFFER, NAME, OAUTH
from .money import shown
from .offer_list import list_offers
from .offers import Offer, price_text
from .status import is_verifying, plain_requirements

OFFERS_SHOWN = 10
PAYOUTS_SHOWN = 3
OPEN_DISPUTES = frozenset({"warning_needs_response", "needs_response", "under_review", "warning_under_review"})
FINISH_SETUP_PATH = f"/integrations/{NAME}/finish-setup"
DISCONNECT_EFFECTS = (
    "Your checkout links stop selling: buyers are told the offer is not available.",
    "New sales, refunds, disputes and payouts no longer reach this site or your Zaps.",
    "Your Stripe account, its offers, money and payouts stay yours in Stripe.",
)
KINDS = {"course": "Course", "download": "Download", "membership": "Membership", "bundle": "Bundle"}


def when(timestamp: int | datetime | None) -> str:
    """A date as people read it (UTC, as everywhere on the page)."""
    if timestamp is None:
        return ""
    moment = timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp, UTC)
    return moment.astimezone(UTC).strftime("%d %b %Y")


def dashboard(config: StripeConnectConfig, connection: Connection, *path: str) -> str:
    """A page of the creator's own Stripe dashboard (``…/acct_…/test/payouts/po_…`` in test mode)."""
    mode = [] if connection.livemode else ["test"]
    return "/".join([config.dashboard_for(connection.external_id), *mode, *path])


def card_details(ctx: IntegrationContext) -> CardDetails | None:
    connection = ctx.connection
    if connection is None or not connection.is_active or not connection.external_id:
        return None
    config: StripeConnectConfig = ctx.config
    if connection.livemode is not None and connection.livemode != config.livemode:
        return None  # the card's reason says why this connection is left alone
    account = read_account(ctx, connection.external_id)
    charges = bool(account.get("charges_enabled"))
    requirements: Mapping[str, Any] = account.get("requirements") or {}
    due = plain_requirements([*(requirements.get("past_due") or []), *(requirements.get("currently_due") or [])])
    verifying = is_verifying(account)
    return CardDetails(
        label="Verification in progress" if verifying else "",
        tone=Tone.INFO if verifying else Tone.NEUTRAL,
        identity=identity(account, connection),
        needs_title="Stripe needs from you" if due else "",
        needs=[need[0].upper() + need[1:] for need in due],
        actions=[finish_setup(ctx, config, connection)] if due else [],
        sections=[offers_section(ctx, config, connection), *money_sections(ctx, config, connection)],
        locked_forms={} if charges else {CREATE_OFFER: locked_reason(verifying, bool(due))},
        disconnect_effects=DISCONNECT_EFFECTS,
    )


def identity(account: Mapping[str, Any], connection: Connection) -> list[Fact]:
    name = (account.get("business_profile") or {}).get("name") or account.get("email") or "Your Stripe account"
    enabled = {True: ("Enabled", Tone.GOOD), False: ("Not yet", Tone.WARNING)}
    facts = [
        Fact(label="Account", value=str(name)),
        Fact(label="Account ID", value=str(account["id"])),
        Fact(label="Mode", value="Live mode" if connection.livemode else "Test mode",
             tone=Tone.GOOD if connection.livemode else Tone.WARNING),
    ]
    if connection.created_at is not None:
        facts.append(Fact(label="Connected since", value=when(connection.created_at)))
    payments, payments_tone = enabled[bool(account.get("charges_enabled"))]
    payouts, payouts_tone = enabled[bool(account.get("payouts_enabled"))]
    facts += [Fact(label="Payments", value=payments, tone=payments_tone),
              Fact(label="Payouts", value=payouts, tone=payouts_tone)]
    return facts


def finish_setup(ctx: IntegrationContext, config: StripeConnectConfig, connection: Connection) -> Action:
    """Resume Stripe's onboarding for an account made here; an existing account is finished in its dashboard."""
    if connection.data.get("connect_method") == OAUTH:
        return Action(label="Finish setup in Stripe", url=config.dashboard_for(connection.external_id),
                      method="get", primary=True)
    return Action(label="Finish setup in Stripe", url=ctx.url_for(FINISH_SETUP_PATH), primary=True)


def locked_reason(verifying: bool, due: bool) -> str:
    if verifying:
        return ("You can create offers once Stripe has verified your details and your account can accept "
                "payments. There is nothing to do for now.")
    if due:
        return ("You can create offers once your Stripe account can accept payments: give Stripe what it needs "
                "(above), then come back here.")
    return "You can create offers once Stripe lets your account accept payments."


# offers ----------------------------------------------------------------------------------------
def offers_section(ctx: IntegrationContext, config: StripeConnectConfig, connection: Connection) -> Section:
    page = list_offers(ctx, limit=OFFERS_SHOWN)
    rows = [offer_row(config, connection, offer) for offer in page.offers]
    more = Link(label="All your products in Stripe", url=dashboard(config, connection, "products")) \
        if page.has_more else None
    return Section(name="offers", title="Your offers",
                   text="Share an offer's checkout link with your buyers: they see its title and price and pay on "
                        "Stripe's page." if rows else "",
                   table=Table(columns=["Offer", "Price", "Status", "Created"], rows=rows, more=more,
                               caption="Your offers, newest first",
                               empty="No offers yet. Create one with the form above; its checkout link appears here."))


def offer_row(config: StripeConnectConfig, connection: Connection, offer: Offer) -> Row:
    kind = KINDS.get(offer.kind, offer.kind)
    actions = [] if not offer.active else [RowAction(
        text="Archive", label=f"Archive {offer.title}", form=ARCHIVE_OFFER, values={"offer_id": offer.id},
        confirm=f"Archive “{offer.title}”? Its checkout link stops selling at once (buyers are told it is no "
                "longer on sale). Past sales and the product in Stripe stay as they are.",
        confirm_button=f"Yes, archive “{offer.title}”")]
    return Row(key=offer.id, cells=[f"{offer.title} ({kind})", price_text(offer),
                                    "On sale" if offer.active else "Archived", when(offer.created)],
               copy=offer.checkout_url if offer.active else "", copy_label="Copy link",
               link=Link(label="View in Stripe", url=dashboard(config, connection, "products", offer.product_id)),
               actions=actions, muted=not offer.active)


# money -----------------------------------------------------------------------------------------
def _balances(entries: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(shown(int(e["amount"]), str(e["currency"])) for e in entries) or shown(0, "usd")


def money_sections(ctx: IntegrationContext, config: StripeConnectConfig, connection: Connection) -> list[Section]:
    client = make_client(ctx)
    options = on_account(connection.external_id or "")
    with stripe_errors("reading your balance and payouts"):
        balance = client.v1.balance.retrieve(None, options).to_dict()
        payouts = [p.to_dict() for p in client.v1.payouts.list({"limit": 20}, options).data]
        disputes = [d.to_dict() for d in client.v1.disputes.list({"limit": 100}, options).data]
    return [payouts_section(config, connection, balance, payouts),
            disputes_section(config, connection, [d for d in disputes if d["status"] in OPEN_DISPUTES])]


def payouts_section(config: StripeConnectConfig, connection: Connection, balance: Mapping[str, Any],
                    payouts: Sequence[Mapping[str, Any]]) -> Section:
    upcoming = sorted((p for p in payouts if p["status"] in ("pending", "in_transit")), key=lambda p: p["arrival_date"])
    recent = [p for p in payouts if p["status"] in ("paid", "failed", "canceled")][:PAYOUTS_SHOWN]
    facts = [Fact(label="Available", value=_balances(balance.get("available") or [])),
             Fact(label="Pending", value=_balances(balance.get("pending") or []))]
    if upcoming:
        nxt = upcoming[0]
        facts.append(Fact(label="Next payout", value=f"{shown(nxt['amount'], nxt['currency'])}, arriving "
                                                      f"{when(nxt['arrival_date'])}"))
    else:
        facts.append(Fact(label="Next payout", value="None scheduled"))
    statuses = {"paid": "Paid", "failed": "Failed", "canceled": "Cancelled"}
    rows = [Row(key=p["id"], cells=[when(p["arrival_date"]), shown(p["amount"], p["currency"]),
                                    statuses.get(p["status"], p["status"])],
                link=Link(label="View payout", url=dashboard(config, connection, "payouts", p["id"])))
            for p in recent]
    return Section(name="payouts", title="Payouts", facts=facts,
                   table=Table(columns=["Date", "Amount", "Status"], rows=rows, caption="Recent payouts",
                               empty="No payouts yet."),
                   links=[Link(label="Balance and payouts in Stripe", url=dashboard(config, connection, "balance"))])


REASONS = {"fraudulent": "Buyer says it was fraud", "product_not_received": "Buyer says nothing arrived",
           "duplicate": "Charged twice", "subscription_canceled": "Buyer says they cancelled",
           "product_unacceptable": "Buyer is unhappy with it", "credit_not_processed": "Buyer expected a refund",
           "unrecognized": "Buyer does not recognise the charge", "general": "Disputed"}


def disputes_section(config: StripeConnectConfig, connection: Connection,
                     disputes: Sequence[Mapping[str, Any]]) -> Section:
    rows = []
    for dispute in disputes:
        due = (dispute.get("evidence_details") or {}).get("due_by")
        needs_answer = dispute["status"] in ("needs_response", "warning_needs_response")
        rows.append(Row(key=dispute["id"], cells=[
            shown(dispute["amount"], dispute["currency"]), REASONS.get(dispute["reason"], dispute["reason"]),
            when(due) if needs_answer and due else "Answered; Stripe is reviewing it"],
            link=Link(label="Respond in Stripe" if needs_answer else "View in Stripe",
                      url=dashboard(config, connection, "disputes", dispute["id"]))))
    return Section(name="disputes", title="Open disputes",
                   text="Disputes are between you and your buyer's bank: respond in Stripe before the date shown."
                        if rows else "",
                   table=Table(columns=["Amount", "Reason", "Respond by"], rows=rows, caption="Open disputes",
                               empty="No open disputes."))

