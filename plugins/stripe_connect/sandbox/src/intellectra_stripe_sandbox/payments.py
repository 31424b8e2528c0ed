"""After the payment: refunds (``POST /v1/refunds``), disputes and payouts (driven by the control API).

Disputes and payouts happen to an account, not through the platform's API calls, so the sandbox exposes
them as test controls; their events (``charge.dispute.*``, ``payout.*``) carry the connected ``account``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from . import ids
from .api import Context, endpoint
from .errors import StripeError, exclusive_parameters, missing_parameter
from .events import NO_ORIGIN, Origin, diff, emit
from .objects import build, nulls
from .params import Bool, Enum, Int, Metadata, Obj, Str, merge_metadata
from .state import Sandbox

REFUND_SCHEMA = Obj(
    {
        "amount": Int(minimum=1),
        "charge": Str(),
        "currency": Str(),
        "customer": Str(),
        "instructions_email": Str(),
        "metadata": Metadata(),
        "origin": Enum("customer_balance"),
        "payment_intent": Str(),
        "reason": Enum("duplicate", "fraudulent", "requested_by_customer"),
        "refund_application_fee": Bool(),
        "reverse_transfer": Bool(),
    }
)


def _money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency, "")
    return f"{symbol}{amount / 100:.2f}" if symbol else f"{amount / 100:.2f} {currency.upper()}"


@endpoint(REFUND_SCHEMA)
def create_refund(ctx: Context) -> dict[str, Any]:
    """``POST /v1/refunds``: full or partial; emits ``refund.created`` and ``charge.refunded``."""
    caller, sandbox, params = ctx.caller, ctx.sandbox, ctx.params
    if params.get("charge") and params.get("payment_intent"):
        raise exclusive_parameters("charge", "payment_intent")
    if params.get("charge"):
        charge = ctx.named("charge", params["charge"], "charge")
    elif params.get("payment_intent"):
        intent = ctx.named("payment_intent", params["payment_intent"], "payment_intent")
        if not intent["latest_charge"]:
            raise StripeError(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge = sandbox.objects[intent["latest_charge"]].obj
    else:
        raise missing_parameter("charge")
    if params.get("refund_application_fee") and caller.account is None:
        raise StripeError(
            "refund_application_fee can only be used for direct charges on a connected account.",
            param="refund_application_fee",
        )
    return refund(sandbox, charge, params, caller.account, caller.livemode, ctx.origin)


def refund(
    sandbox: Sandbox,
    charge: dict[str, Any],
    params: dict[str, Any],
    account: str | None,
    livemode: bool,
    origin: Origin = NO_ORIGIN,
) -> dict[str, Any]:
    remaining = charge["amount"] - charge["amount_refunded"]
    if charge["refunded"] or remaining <= 0:
        raise StripeError(
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
            param="charge",
        )
    amount = params.get("amount") or remaining
    if amount > remaining:
        raise StripeError(
            f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded amount on charge "
            f"({_money(remaining, charge['currency'])})",
            param="amount",
        )
    refund_id = ids.new_id("re", 24)
    new_refund = build(
        "refund",
        id=refund_id,
        amount=amount,
        balance_transaction=ids.new_id("txn", 24),
        charge=charge["id"],
        created=sandbox.now(),
        currency=charge["currency"],
        metadata=merge_metadata({}, params.get("metadata") or {}),
        payment_intent=charge["payment_intent"],
        reason=params.get("reason"),
        status="succeeded",
        customer=charge["customer"],
        payment_method=charge["payment_method"],
    )
    sandbox.store("refund", new_refund, account, livemode)
    before = sandbox.snapshot(charge)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    charge["refunds"]["data"].insert(0, new_refund)
    emit(sandbox, "refund.created", new_refund, account=account, livemode=livemode, origin=origin)
    previous = diff(
        {k: before[k] for k in ("amount_refunded", "refunded")},
        {k: charge[k] for k in ("amount_refunded", "refunded")},
    )
    emit(
        sandbox,
        "charge.refunded",
        charge,
        account=account,
        livemode=livemode,
        previous=previous,
        origin=origin,
    )
    return new_refund


def retrieve(object_type: str, *, param: str) -> Callable[[Request], Any]:
    """``GET /v1/<objects>/{id}``: one of the caller's objects (scoped by Stripe-Account and mode)."""

    def handler(ctx: Context) -> dict[str, Any]:
        return ctx.lookup(object_type, ctx.path_params["id"], param=param)

    handler.__name__ = f"retrieve_{object_type}"
    return endpoint(Obj({}))(handler)


retrieve_refund = retrieve("refund", param="refund")
retrieve_charge = retrieve("charge", param="charge")
retrieve_payment_intent = retrieve("payment_intent", param="intent")
retrieve_dispute = retrieve("dispute", param="dispute")
retrieve_payout = retrieve("payout", param="payout")


# -- disputes ----------------------------------------------------------------------------------------------------
def open_dispute(
    sandbox: Sandbox, charge_id: str, *, reason: str = "fraudulent", amount: int | None = None
) -> dict[str, Any]:
    """The cardholder disputes a charge: ``charge.dispute.created`` (status ``needs_response``)."""
    with sandbox.lock:
        scope = sandbox.scope_of(charge_id)
        charge = scope.obj
        dispute = build(
            "dispute",
            id=ids.new_id("dp", 24),
            amount=amount or charge["amount"],
            charge=charge_id,
            created=sandbox.now(),
            currency=charge["currency"],
            evidence_details={
                "due_by": sandbox.now() + 7 * 86400,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            is_charge_refundable=False,
            livemode=scope.livemode,
            payment_intent=charge["payment_intent"],
            reason=reason,
            status="needs_response",
            enhanced_eligibility_types=[],
        )
        dispute["evidence"] = {**nulls(dispute["evidence"]), "enhanced_evidence": {}}
        sandbox.store("dispute", dispute, scope.account, scope.livemode)
        charge["disputed"] = True
        emit(sandbox, "charge.dispute.created", dispute, account=scope.account, livemode=scope.livemode)
        return dispute


def close_dispute(sandbox: Sandbox, dispute_id: str, outcome: str) -> dict[str, Any]:
    """The dispute is decided: ``won`` or ``lost`` → ``charge.dispute.closed``."""
    if outcome not in ("won", "lost"):
        raise StripeError("Invalid outcome: must be one of won or lost", param="outcome")
    with sandbox.lock:
        scope = sandbox.scope_of(dispute_id)
        dispute = scope.obj
        if dispute["status"] in ("won", "lost"):
            raise StripeError(f"This dispute is already closed ({dispute['status']}).")
        previous = {"status": dispute["status"]}
        dispute["status"] = outcome
        emit(
            sandbox,
            "charge.dispute.closed",
            dispute,
            account=scope.account,
            livemode=scope.livemode,
            previous=previous,
        )
        return dispute


# -- payouts -----------------------------------------------------------------------------------------------------
def create_payout(
    sandbox: Sandbox, account_id: str, *, amount: int, currency: str = "usd", livemode: bool = False
) -> dict[str, Any]:
    """An automatic payout to the account's bank account: ``payout.created``, status ``in_transit``."""
    with sandbox.lock:
        now = sandbox.now()
        payout = build(
            "payout",
            id=ids.new_id("po", 24),
            amount=amount,
            arrival_date=now + 2 * 86400,
            balance_transaction=ids.new_id("txn", 24),
            created=now,
            currency=currency,
            destination=ids.new_id("ba", 24),
            livemode=livemode,
            reconciliation_status="not_applicable",
            source_type="card",
            status="in_transit",
            trace_id={"status": "pending", "value": None},
        )
        sandbox.store("payout", payout, account_id, livemode)
        emit(sandbox, "payout.created", payout, account=account_id, livemode=livemode)
        return payout


def settle_payout(
    sandbox: Sandbox, payout_id: str, outcome: str, failure_code: str = "account_closed"
) -> dict[str, Any]:
    """The bank answers: ``paid`` → ``payout.paid``; ``failed`` → ``payout.failed`` with a failure code."""
    if outcome not in ("paid", "failed"):
        raise StripeError("Invalid outcome: must be one of paid or failed", param="outcome")
    with sandbox.lock:
        scope = sandbox.scope_of(payout_id)
        payout = scope.obj
        if payout["status"] in ("paid", "failed", "canceled"):
            raise StripeError(f"This payout is already {payout['status']}.")
        before = sandbox.snapshot(payout)
        payout["status"] = outcome
        if outcome == "failed":
            payout.update(
                failure_code=failure_code,
                failure_message="The bank account has been closed.",
                failure_balance_transaction=ids.new_id("txn", 24),
            )
        else:
            payout["trace_id"] = {"status": "supported", "value": ids.random_part(15).upper()}
        emit(
            sandbox,
            f"payout.{outcome}",
            payout,
            account=scope.account,
            livemode=scope.livemode,
            previous=diff(before, payout),
        )
        return payout
