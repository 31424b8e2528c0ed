"""The account's balance (``GET /v1/balance``) and the lists of its payouts and disputes.

The sandbox keeps no ledger of its own: the balance is added up, when asked, from what happened on the
account. A charge's net (amount less the application fee) is pending for two days (Stripe's standard US
payout schedule) and then available; a refund, an open or lost dispute and a payout (unless it failed)
take their amount out of the available balance at once.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .api import Context, endpoint
from .listing import CREATED, PAGE, created_matches, paginate, scoped
from .objects import build
from .params import Enum, Obj, Str
from .state import Sandbox

AVAILABLE_AFTER = 2 * 86400
"""Seconds until a charge's funds are available (Stripe's standard payout schedule in the US)."""

DISPUTE_HOLDS = frozenset({"warning_needs_response", "needs_response", "under_review", "warning_under_review",
                           "lost"})
"""Dispute statuses whose amount Stripe has taken from the balance (a won dispute gives it back)."""


def _entries(sandbox: Sandbox, account: str | None, livemode: bool) -> list[tuple[int, str, int]]:
    """(amount, currency, available_on) for every movement of the account's money."""
    entries: list[tuple[int, str, int]] = []
    if account is None:  # the platform: the application fees its connected accounts paid it
        for fee in scoped(sandbox, "application_fee", None, livemode):
            entries.append((fee["amount"] - fee["amount_refunded"], fee["currency"], fee["created"]))
        return entries
    for charge in scoped(sandbox, "charge", account, livemode):
        if charge["status"] == "succeeded":
            net = charge["amount"] - (charge["application_fee_amount"] or 0)
            entries.append((net, charge["currency"], charge["created"] + AVAILABLE_AFTER))
    for refund in scoped(sandbox, "refund", account, livemode):
        entries.append((-refund["amount"], refund["currency"], refund["created"]))
    for dispute in scoped(sandbox, "dispute", account, livemode):
        if dispute["status"] in DISPUTE_HOLDS:
            entries.append((-dispute["amount"], dispute["currency"], dispute["created"]))
    for payout in scoped(sandbox, "payout", account, livemode):
        if payout["status"] not in ("failed", "canceled"):
            entries.append((-payout["amount"], payout["currency"], payout["created"]))
    return entries


def balance_of(sandbox: Sandbox, account: str | None, livemode: bool) -> dict[str, Any]:
    """The balance object: ``available`` and ``pending`` per currency (the account's default if none moved)."""
    now = sandbox.now()
    available: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for amount, currency, available_on in _entries(sandbox, account, livemode):
        (available if available_on <= now else pending)[currency] += amount
    default = sandbox.accounts[account]["default_currency"] if account in sandbox.accounts else "usd"
    currencies = sorted(set(available) | set(pending)) or [default]

    def funds(totals: dict[str, int]) -> list[dict[str, Any]]:
        return [{"amount": totals[c], "currency": c, "source_types": {"card": totals[c]}} for c in currencies]

    balance = build("balance", available=funds(available), pending=funds(pending), livemode=livemode)
    if account is None:
        balance["connect_reserved"] = [{"amount": 0, "currency": c} for c in currencies]
    else:
        del balance["connect_reserved"]  # only platforms have a reserve for their accounts' negative balances
    return balance


@endpoint(Obj({}))
def retrieve_balance(ctx: Context) -> dict[str, Any]:
    """``GET /v1/balance``: with ``Stripe-Account``, the connected account's."""
    return balance_of(ctx.sandbox, ctx.caller.account, ctx.caller.livemode)


PAYOUT_LIST = Obj({**PAGE, "arrival_date": CREATED, "created": CREATED, "destination": Str(),
                   "status": Enum("canceled", "failed", "in_transit", "paid", "pending")})
DISPUTE_LIST = Obj({**PAGE, "charge": Str(), "created": CREATED, "payment_intent": Str()})


@endpoint(PAYOUT_LIST)
def list_payouts(ctx: Context) -> dict[str, Any]:
    """``GET /v1/payouts``: newest first; ``status``, ``arrival_date`` and ``created`` narrow it."""
    params = ctx.params
    arrival = {"created": params["arrival_date"]} if params.get("arrival_date") else {}
    items = [
        payout
        for payout in scoped(ctx.sandbox, "payout", ctx.caller.account, ctx.caller.livemode)
        if created_matches(payout, params)
        and created_matches({"created": payout["arrival_date"]}, arrival)
        and (params.get("status") is None or payout["status"] == params["status"])
        and (params.get("destination") is None or payout["destination"] == params["destination"])
    ]
    return paginate(items, params, "/v1/payouts", "payout")


@endpoint(DISPUTE_LIST)
def list_disputes(ctx: Context) -> dict[str, Any]:
    """``GET /v1/disputes``: newest first; ``charge``, ``payment_intent`` and ``created`` narrow it."""
    params = ctx.params
    items = [
        dispute
        for dispute in scoped(ctx.sandbox, "dispute", ctx.caller.account, ctx.caller.livemode)
        if created_matches(dispute, params)
        and (params.get("charge") is None or dispute["charge"] == params["charge"])
        and (params.get("payment_intent") is None or dispute["payment_intent"] == params["payment_intent"])
    ]
    return paginate(items, params, "/v1/disputes", "dispute")
