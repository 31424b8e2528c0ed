"""Checkout Sessions (``/v1/checkout/sessions``) and the hosted payment page (``/checkout/pay/{id}``).

Sessions on a connected account are direct charges (``Stripe-Account``). Paying creates the PaymentIntent
and Charge (with the application fee), completes the session, emits ``charge.succeeded``,
``payment_intent.succeeded`` (and ``customer.subscription.created`` in subscription mode) and
``checkout.session.completed``, then redirects to ``success_url`` with ``{CHECKOUT_SESSION_ID}`` replaced.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import ids
from .api import Context, endpoint, expander, sandbox_of
from .errors import StripeError, missing_parameter, resource_missing
from .events import emit
from .money import maximum_charge, minimum_charge, minimum_shown, shown
from .objects import build, empty_list, nulls
from .pages import error_page, form_data, render
from .params import Arr, Bool, Decimal, Enum, Free, Int, Metadata, Obj, Str, merge_metadata
from .state import Sandbox

SESSION_TTL = 86400
DECLINED_CARDS = {
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
}

PRICE_DATA = Obj(
    {
        "currency": Str(unsettable=False),
        "product": Str(),
        "product_data": Obj(
            {
                "description": Str(),
                "images": Arr(Str(), max_items=8),
                "metadata": Metadata(),
                "name": Str(unsettable=False),
                "tax_code": Str(),
                "unit_label": Str(),
            },
            required=("name",),
        ),
        "recurring": Obj(
            {"interval": Enum("day", "month", "week", "year"), "interval_count": Int(minimum=1)},
            required=("interval",),
        ),
        "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
        "unit_amount": Int(minimum=0),
        "unit_amount_decimal": Decimal(),
    },
    required=("currency",),
)
LINE_ITEM = Obj(
    {
        "adjustable_quantity": Obj({"enabled": Bool(), "maximum": Int(), "minimum": Int()}),
        "dynamic_tax_rates": Arr(Str()),
        "metadata": Metadata(),
        "price": Str(),
        "price_data": PRICE_DATA,
        "quantity": Int(minimum=0),
        "tax_rates": Arr(Str()),
    }
)
PAYMENT_INTENT_DATA = Obj(
    {
        "application_fee_amount": Int(minimum=0),
        "capture_method": Enum("automatic", "automatic_async", "manual"),
        "description": Str(),
        "metadata": Metadata(),
        "on_behalf_of": Str(),
        "receipt_email": Str(),
        "setup_future_usage": Enum("off_session", "on_session"),
        "shipping": Free(),
        "statement_descriptor": Str(max_length=22),
        "statement_descriptor_suffix": Str(max_length=22),
        "transfer_data": Obj({"amount": Int(), "destination": Str()}, required=("destination",)),
        "transfer_group": Str(),
    }
)
SUBSCRIPTION_DATA = Obj(
    {
        "application_fee_percent": Decimal(),
        "billing_cycle_anchor": Int(),
        "billing_mode": Free(),
        "default_tax_rates": Arr(Str()),
        "description": Str(),
        "invoice_settings": Free(),
        "metadata": Metadata(),
        "on_behalf_of": Str(),
        "proration_behavior": Enum("create_prorations", "none"),
        "transfer_data": Obj({"amount_percent": Decimal(), "destination": Str()}, required=("destination",)),
        "trial_end": Int(),
        "trial_period_days": Int(minimum=1),
        "trial_settings": Free(),
    }
)
CREATE_SCHEMA = Obj(
    {
        "adaptive_pricing": Obj({"enabled": Bool()}),
        "after_expiration": Free(),
        "allow_promotion_codes": Bool(),
        "automatic_tax": Obj({"enabled": Bool(), "liability": Free()}, required=("enabled",)),
        "billing_address_collection": Enum("auto", "required"),
        "cancel_url": Str(),
        "client_reference_id": Str(max_length=200),
        "consent_collection": Free(),
        "currency": Str(),
        "custom_fields": Free(),
        "custom_text": Free(),
        "customer": Str(),
        "customer_creation": Enum("always", "if_required"),
        "customer_email": Str(),
        "customer_update": Free(),
        "discounts": Free(),
        "expires_at": Int(),
        "invoice_creation": Free(),
        "line_items": Arr(LINE_ITEM),
        "locale": Str(),
        "managed_payments": Obj({"enabled": Bool()}),
        "metadata": Metadata(),
        "mode": Enum("payment", "setup", "subscription"),
        "payment_intent_data": PAYMENT_INTENT_DATA,
        "payment_method_collection": Enum("always", "if_required"),
        "payment_method_configuration": Str(),
        "payment_method_options": Free(),
        "payment_method_types": Arr(Str()),
        "phone_number_collection": Obj({"enabled": Bool()}, required=("enabled",)),
        "redirect_on_completion": Enum("always", "if_required", "never"),
        "return_url": Str(),
        "saved_payment_method_options": Free(),
        "setup_intent_data": Free(),
        "shipping_address_collection": Free(),
        "shipping_options": Free(),
        "submit_type": Enum("auto", "book", "donate", "pay", "subscribe"),
        "subscription_data": SUBSCRIPTION_DATA,
        "success_url": Str(),
        "tax_id_collection": Free(),
        "ui_mode": Enum("custom", "embedded", "hosted"),
        "wallet_options": Free(),
    },
    required=("mode",),
)


# -- creating ----------------------------------------------------------------------------------------------------
def _resolve_items(ctx: Context, mode: str) -> list[dict[str, Any]]:
    """Line items as ``item`` objects (with their price), checking what Stripe checks."""
    sandbox = ctx.sandbox
    items: list[dict[str, Any]] = []
    for index, line in enumerate(ctx.params.get("line_items") or []):
        path = f"line_items[{index}]"
        if line.get("price") and line.get("price_data"):
            raise StripeError(
                f"You may only specify one of these parameters: {path}[price], {path}[price_data].",
                code="parameters_exclusive",
                param=f"{path}[price]",
            )
        if line.get("price"):
            price = copy.deepcopy(ctx.named("price", line["price"], f"{path}[price]"))
            if not price["active"]:
                raise StripeError(
                    "The price specified is inactive. This field only accepts active prices.",
                    param=f"{path}[price]",
                )
        elif line.get("price_data"):
            price = _inline_price(ctx, line["price_data"], path)
        else:
            raise StripeError(f"You must specify either `price` or `price_data` in {path}.", param=path)
        if line.get("quantity") is None:
            raise StripeError(f"Quantity is required. Add `quantity` to `{path}`", param=f"{path}[quantity]")
        if price["unit_amount"] is None:
            raise StripeError("Prices without a unit_amount cannot be used in Checkout.", param=f"{path}[price]")
        if mode == "payment" and price["type"] == "recurring":
            raise StripeError(
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode "
                "or use only one-time prices.",
                param=f"{path}[price]",
            )
        quantity = line["quantity"]
        amount = price["unit_amount"] * quantity
        product = sandbox.find("product", price["product"])
        item = build(
            "item",
            id=ids.new_id("li", 24),
            amount_discount=0,
            amount_subtotal=amount,
            amount_tax=0,
            amount_total=amount,
            currency=price["currency"],
            description=product.obj["name"] if product else None,
            metadata=line.get("metadata") or {},
            price=price,
            quantity=quantity,
            adjustable_quantity=None,
        )
        items.append(item)
    if mode in ("payment", "subscription") and not items:
        raise missing_parameter("line_items")
    if mode == "setup" and items:
        raise StripeError("You cannot pass `line_items` in `setup` mode.", param="line_items")
    if mode == "subscription" and not any(i["price"]["type"] == "recurring" for i in items):
        raise StripeError(
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            param="line_items",
        )
    currencies = {i["currency"] for i in items}
    if len(currencies) > 1:
        raise StripeError("All prices in a Checkout Session must use the same currency.", param="line_items")
    return items


def _inline_price(ctx: Context, data: dict[str, Any], path: str) -> dict[str, Any]:
    from .catalog import new_price, new_product

    caller, sandbox = ctx.caller, ctx.sandbox
    if data.get("product") and data.get("product_data"):
        raise StripeError(
            f"You may only specify one of these parameters: {path}[price_data][product], "
            f"{path}[price_data][product_data].",
            code="parameters_exclusive",
            param=f"{path}[price_data][product]",
        )
    if data.get("product"):
        product_id = ctx.named("product", data["product"], f"{path}[price_data][product]")["id"]
    elif data.get("product_data"):
        product_id = new_product(sandbox, data["product_data"], caller.account, caller.livemode)["id"]
    else:
        raise missing_parameter(f"{path}[price_data][product]")
    if data.get("unit_amount") is None and data.get("unit_amount_decimal") is None:
        raise missing_parameter(f"{path}[price_data][unit_amount]")
    price = new_price(sandbox, data, product_id, caller.account, caller.livemode)
    price["active"] = False  # inline prices are archived, as Stripe's are
    return copy.deepcopy(price)


def _check_mode_options(ctx: Context, mode: str) -> None:
    params, caller = ctx.params, ctx.caller
    if params.get("payment_intent_data") is not None and mode != "payment":
        raise StripeError(f"You can not pass `payment_intent_data` in `{mode}` mode.", param="payment_intent_data")
    if params.get("subscription_data") is not None and mode != "subscription":
        raise StripeError(f"You can not pass `subscription_data` in `{mode}` mode.", param="subscription_data")
    direct = caller.account is not None
    pid = params.get("payment_intent_data") or {}
    if pid.get("application_fee_amount") is not None and not direct and not pid.get("transfer_data"):
        raise StripeError(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
            "(using an OAuth key or Stripe-Account header) or destination payment (using "
            "`transfer_data[destination]`).",
            param="payment_intent_data[application_fee_amount]",
        )
    sub = params.get("subscription_data") or {}
    percent = sub.get("application_fee_percent")
    if percent is not None:
        if not 0 <= percent <= 100:
            raise StripeError(
                "application_fee_percent must be between 0 and 100.",
                param="subscription_data[application_fee_percent]",
            )
        if not direct and not sub.get("transfer_data"):
            raise StripeError(
                "Can only apply an application_fee_percent when the subscription is created on a connected "
                "account (using an OAuth key or Stripe-Account header) or with `transfer_data[destination]`.",
                param="subscription_data[application_fee_percent]",
            )
    if params.get("ui_mode") in ("embedded", "custom") and (params.get("success_url") or params.get("cancel_url")):
        raise StripeError(
            f"`success_url` and `cancel_url` are not allowed when ui_mode is `{params['ui_mode']}`.",
            param="success_url",
        )
    for url_param in ("success_url", "cancel_url", "return_url"):
        url = params.get(url_param)
        if url is not None and not url.startswith(("http://", "https://")):
            raise StripeError("Not a valid URL", code="url_invalid", param=url_param)


def _check_total(items: list[dict[str, Any]], mode: str) -> None:
    """Stripe's minimum and maximum charge amounts for the session's total (a subscription may start at 0)."""
    if not items:
        return
    currency = items[0]["currency"]
    total = sum(i["amount_total"] for i in items)
    if mode == "subscription" and total == 0:
        return
    if total < minimum_charge(currency):
        raise StripeError(
            f"The Checkout Session's total amount due must add up to at least {minimum_shown(currency)}",
            code="amount_too_small",
            param="line_items",
        )
    if total > maximum_charge(currency):
        raise StripeError(
            f"The Checkout Session's total amount due must be no more than {shown(maximum_charge(currency), currency)}",
            code="amount_too_large",
            param="line_items",
        )


def _check_account_can_charge(ctx: Context) -> None:
    account_id = ctx.caller.account
    if account_id is None:
        return
    account = ctx.sandbox.accounts[account_id]
    if not account["charges_enabled"]:
        raise StripeError(
            "This Connect account cannot currently make live charges. The `requirements.disabled_reason` "
            "property on the account will provide information about why this account is currently disabled. "
            "If you are a customer trying to make a purchase, please contact the owner of this site. Your "
            "transaction has not been processed.",
        )


@endpoint(CREATE_SCHEMA)
def create_session(ctx: Context) -> dict[str, Any]:
    """``POST /v1/checkout/sessions``."""
    caller, sandbox, params = ctx.caller, ctx.sandbox, ctx.params
    mode = params["mode"]
    _check_mode_options(ctx, mode)
    items = _resolve_items(ctx, mode)
    _check_total(items, mode)
    _check_account_can_charge(ctx)
    now = sandbox.now()
    expires_at = params.get("expires_at") or now + SESSION_TTL
    if not now + 1800 <= expires_at <= now + SESSION_TTL:
        raise StripeError(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.", param="expires_at"
        )
    session_id = ids.mode_id("cs", caller.livemode)
    subtotal = sum(i["amount_subtotal"] for i in items)
    fixture = build("checkout.session")
    session = build(
        "checkout.session",
        id=session_id,
        adaptive_pricing={"enabled": False},
        after_expiration=None,
        allow_promotion_codes=params.get("allow_promotion_codes"),
        amount_subtotal=subtotal if items else None,
        amount_total=subtotal if items else None,
        automatic_tax={"enabled": False, "liability": None, "provider": None, "status": None},
        billing_address_collection=params.get("billing_address_collection"),
        cancel_url=params.get("cancel_url"),
        client_reference_id=params.get("client_reference_id"),
        client_secret=None,
        collected_information=None,
        consent=None,
        consent_collection=None,
        created=now,
        currency=items[0]["currency"] if items else params.get("currency"),
        currency_conversion=None,
        custom_fields=[],
        custom_text={k: None for k in fixture["custom_text"]},
        customer=params.get("customer"),
        customer_creation=params.get("customer_creation") or ("if_required" if mode == "payment" else "always"),
        customer_details=None,
        customer_email=params.get("customer_email"),
        discounts=[],
        expires_at=expires_at,
        invoice=None,
        invoice_creation=(
            {
                "enabled": False,
                "invoice_data": {
                    **nulls(fixture["invoice_creation"]["invoice_data"]),
                    "rendering_options": None,
                    "issuer": None,
                },
            }
            if mode == "payment"
            else None
        ),
        livemode=caller.livemode,
        locale=params.get("locale"),
        managed_payments={"enabled": bool((params.get("managed_payments") or {}).get("enabled", False))},
        metadata=merge_metadata({}, params.get("metadata") or {}),
        mode=mode,
        payment_intent=None,
        payment_method_collection=params.get("payment_method_collection") or "if_required",
        payment_method_configuration_details=None,
        payment_method_options={},
        payment_method_types=params.get("payment_method_types") or ["card"],
        payment_status="no_payment_required" if mode == "setup" else "unpaid",
        phone_number_collection={"enabled": bool((params.get("phone_number_collection") or {}).get("enabled"))},
        saved_payment_method_options=None,
        shipping_address_collection=None,
        shipping_cost=None,
        shipping_options=[],
        status="open",
        submit_type=params.get("submit_type"),
        success_url=params.get("success_url"),
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        ui_mode=params.get("ui_mode") or "hosted",
        url=f"{ctx.base_url}/checkout/pay/{session_id}" if params.get("ui_mode") in (None, "hosted") else None,
        wallet_options=None,
    )
    sandbox.store("checkout.session", session, caller.account, caller.livemode)
    sandbox.session_extras[session_id] = {
        "items": items,
        "payment_intent_data": params.get("payment_intent_data") or {},
        "subscription_data": params.get("subscription_data") or {},
    }
    return session


def expire_if_due(sandbox: Sandbox, session: dict[str, Any]) -> None:
    """Sessions expire lazily when their ``expires_at`` passes on the sandbox clock."""
    if session["status"] == "open" and sandbox.now() >= session["expires_at"]:
        expire(sandbox, session)


def expire(sandbox: Sandbox, session: dict[str, Any], origin: tuple[str | None, str | None] = (None, None)) -> None:
    scope = sandbox.scope_of(session["id"])
    session["status"] = "expired"
    session["url"] = None
    emit(
        sandbox,
        "checkout.session.expired",
        session,
        account=scope.account,
        livemode=scope.livemode,
        origin=origin,
    )


def _session(ctx: Context) -> dict[str, Any]:
    session = ctx.lookup("checkout.session", ctx.path_params["id"], param="session")
    expire_if_due(ctx.sandbox, session)
    return session


@endpoint(Obj({}))
def retrieve_session(ctx: Context) -> dict[str, Any]:
    """``GET /v1/checkout/sessions/{id}`` (``expand[]=line_items`` / ``payment_intent`` supported)."""
    return _session(ctx)


@endpoint(Obj({}))
def expire_session(ctx: Context) -> dict[str, Any]:
    """``POST /v1/checkout/sessions/{id}/expire``: only an open session can be expired."""
    session = _session(ctx)
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
            param="session",
        )
    expire(ctx.sandbox, session, ctx.origin)
    return session


@endpoint(Obj({"ending_before": Str(), "limit": Int(minimum=1, maximum=100), "starting_after": Str()}))
def list_line_items(ctx: Context) -> dict[str, Any]:
    """``GET /v1/checkout/sessions/{id}/line_items``."""
    session = _session(ctx)
    listing: dict[str, Any] = line_items(ctx.sandbox, session)
    return listing


@expander("checkout.session", "line_items")
def line_items(sandbox: Sandbox, session: dict[str, Any]) -> dict[str, Any]:
    listing = empty_list(f"/v1/checkout/sessions/{session['id']}/line_items")
    listing["data"] = copy.deepcopy(sandbox.session_extras.get(session["id"], {}).get("items", []))
    return listing


# -- paying ------------------------------------------------------------------------------------------------------
def pay(sandbox: Sandbox, session_id: str, *, email: str | None = None, name: str | None = None) -> dict[str, Any]:
    """Complete an open session as a successful card payment; returns the completed session."""
    with sandbox.lock:
        scope = sandbox.scope_of(session_id)
        session = scope.obj
        expire_if_due(sandbox, session)
        if session["status"] != "open":
            raise StripeError(f"This Checkout Session is {session['status']} and can no longer be paid.")
        account, livemode = scope.account, scope.livemode
        extras = sandbox.session_extras[session_id]
        now = sandbox.now()
        email = email or session["customer_email"] or "customer@example.com"
        customer_id = session["customer"] or ids.new_id("cus", 14)
        amount = session["amount_total"] or 0
        if session["mode"] == "payment":
            pid = extras["payment_intent_data"]
            fee = pid.get("application_fee_amount")
            metadata = pid.get("metadata") or {}
            description = pid.get("description")
        else:
            percent = extras["subscription_data"].get("application_fee_percent")
            fee = round(amount * percent / 100) if percent is not None else None
            metadata, description = {}, "Subscription creation"
        subscription = None
        if session["mode"] == "subscription":
            subscription = _new_subscription(sandbox, session, extras, customer_id, account, livemode)
        intent, charge = _new_payment(
            sandbox,
            amount=amount,
            currency=session["currency"] or "usd",
            fee=fee,
            email=email,
            name=name,
            customer=customer_id,
            metadata=metadata,
            description=description,
            account=account,
            livemode=livemode,
        )
        session.update(
            status="complete",
            payment_status="paid",
            url=None,
            customer=customer_id if session["mode"] == "subscription" or session["customer"] else None,
            customer_details={
                "address": nulls(build("checkout.session")["customer_details"]["address"]),
                "business_name": None,
                "email": email,
                "individual_name": None,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            payment_intent=intent["id"] if session["mode"] == "payment" else None,
            subscription=subscription["id"] if subscription else None,
            invoice=subscription["latest_invoice"] if subscription else None,
        )
        session["created"] = session["created"] or now
        emit(sandbox, "charge.succeeded", charge, account=account, livemode=livemode)
        emit(sandbox, "payment_intent.succeeded", intent, account=account, livemode=livemode)
        if subscription is not None:
            emit(sandbox, "customer.subscription.created", subscription, account=account, livemode=livemode)
        emit(sandbox, "checkout.session.completed", session, account=account, livemode=livemode)
        return session


def _new_payment(
    sandbox: Sandbox,
    *,
    amount: int,
    currency: str,
    fee: int | None,
    email: str,
    name: str | None,
    customer: str,
    metadata: dict[str, str],
    description: str | None,
    account: str | None,
    livemode: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    now = sandbox.now()
    intent_id = ids.new_id("pi", 24)
    charge_id = ids.new_id("ch", 24)
    fee_id = ids.new_id("fee", 24) if fee is not None and account is not None else None
    fixture_charge = build("charge")
    # What a charge and its payment intent say alike.
    both: dict[str, Any] = dict(
        amount=amount,
        application=sandbox.client_id if account is not None else None,
        application_fee_amount=fee,
        created=now,
        currency=currency,
        customer=customer,
        description=description,
        livemode=livemode,
        receipt_email=email,
        status="succeeded",
        transfer_data=None,
    )
    charge = build(
        "charge",
        **both,
        id=charge_id,
        amount_captured=amount,
        amount_refunded=0,
        application_fee=fee_id,
        balance_transaction=ids.new_id("txn", 24),
        billing_details={**fixture_charge["billing_details"], "email": email, "name": name},
        captured=True,
        disputed=False,
        metadata=dict(metadata),
        outcome={
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        paid=True,
        payment_intent=intent_id,
        payment_method=ids.new_id("pm", 24),
        receipt_url=None,
        refunded=False,
        refunds=empty_list(f"/v1/charges/{charge_id}/refunds"),
        source=None,
    )
    charge["payment_method_details"]["card"]["wallet"] = None
    intent = build(
        "payment_intent",
        **both,
        id=intent_id,
        amount_capturable=0,
        amount_received=amount,
        automatic_payment_methods=None,
        canceled_at=None,
        client_secret=f"{intent_id}_secret_{ids.random_part(25)}",
        last_payment_error=None,
        latest_charge=charge_id,
        metadata=dict(metadata),
        next_action=None,
        payment_method=charge["payment_method"],
        payment_method_configuration_details=None,
        processing=None,
    )
    sandbox.store("charge", charge, account, livemode)
    sandbox.store("payment_intent", intent, account, livemode)
    if fee_id is not None and fee is not None and account is not None:
        application_fee = build(
            "application_fee",
            id=fee_id,
            account=account,
            amount=fee,
            application=sandbox.client_id,
            balance_transaction=ids.new_id("txn", 24),
            charge=charge_id,
            created=now,
            currency=currency,
            fee_source={"charge": charge_id, "type": "charge"},
            livemode=livemode,
            originating_transaction=None,
            refunds=empty_list(f"/v1/application_fees/{fee_id}/refunds"),
        )
        sandbox.store("application_fee", application_fee, None, livemode)
    return intent, charge


def _new_subscription(
    sandbox: Sandbox,
    session: dict[str, Any],
    extras: dict[str, Any],
    customer: str,
    account: str | None,
    livemode: bool,
) -> dict[str, Any]:
    now = sandbox.now()
    sub_data = extras["subscription_data"]
    items = extras["items"]
    subscription_id = ids.new_id("sub", 24)
    subscription = build("subscription")
    subscription.update(
        id=subscription_id,
        application=sandbox.client_id if account is not None else None,
        application_fee_percent=sub_data.get("application_fee_percent"),
        billing_cycle_anchor=now,
        cancel_at=None,
        canceled_at=None,
        created=now,
        currency=session["currency"],
        customer=customer,
        description=sub_data.get("description"),
        ended_at=None,
        latest_invoice=ids.new_id("in", 24),
        livemode=livemode,
        metadata=dict(sub_data.get("metadata") or {}),
        start_date=now,
        status="active",
        items={
            "object": "list",
            "data": [
                {
                    "id": ids.new_id("si", 14),
                    "object": "subscription_item",
                    "created": now,
                    "metadata": {},
                    "price": i["price"],
                    "quantity": i["quantity"],
                    "subscription": subscription_id,
                }
                for i in items
            ],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
    )
    sandbox.store("subscription", subscription, account, livemode)
    return subscription


# -- the payment page --------------------------------------------------------------------------------------------
def _page_session(request: Request) -> tuple[Sandbox, dict[str, Any] | None]:
    sandbox = sandbox_of(request)
    stored = sandbox.find("checkout.session", request.path_params["session_id"])
    if stored is None:
        return sandbox, None
    expire_if_due(sandbox, stored.obj)
    return sandbox, stored.obj


async def pay_page(request: Request) -> Response:
    """``GET /checkout/pay/{session_id}``: amount, items, email and card fields, "Pay" and "Cancel"."""
    sandbox, session = _page_session(request)
    if session is None:
        return error_page(request, "This checkout session does not exist.", status=404)
    with sandbox.lock:
        items = copy.deepcopy(sandbox.session_extras.get(session["id"], {}).get("items", []))
        account_id = sandbox.scope_of(session["id"]).account
        account = sandbox.accounts.get(account_id or "")
        merchant = (account or {}).get("business_profile", {}).get("name") if account else sandbox.platform_name
    return render(request, "checkout.html", session=session, items=items, merchant=merchant or account_id, error=None)


async def pay_submit(request: Request) -> Response:
    """``POST /checkout/pay/{session_id}``: "Pay" (declining test cards show an error) or "Cancel"."""
    sandbox, session = _page_session(request)
    if session is None:
        return error_page(request, "This checkout session does not exist.", status=404)
    form = await form_data(request)
    if form.get("action") == "cancel":
        if session["cancel_url"]:
            return RedirectResponse(session["cancel_url"], status_code=303)
        return render(request, "message.html", title="Payment cancelled", message="You can close this page.")
    if session["status"] != "open":
        return render(
            request,
            "message.html",
            status=400,
            title="Checkout unavailable",
            error=True,
            message=f"This checkout session is {session['status']}.",
        )
    card = (form.get("card_number") or "4242424242424242").replace(" ", "")
    if card in DECLINED_CARDS:
        with sandbox.lock:
            items = copy.deepcopy(sandbox.session_extras.get(session["id"], {}).get("items", []))
        return render(
            request,
            "checkout.html",
            status=402,
            session=session,
            items=items,
            merchant=None,
            error=DECLINED_CARDS[card],
        )
    try:
        completed = pay(sandbox, session["id"], email=form.get("email") or None, name=form.get("name") or None)
    except StripeError as exc:
        return error_page(request, exc.message)
    if completed["success_url"]:
        return RedirectResponse(
            completed["success_url"].replace("{CHECKOUT_SESSION_ID}", completed["id"]), status_code=303
        )
    return render(request, "message.html", title="Payment complete", message="Thanks for your payment.")


def require_session(sandbox: Sandbox, session_id: str) -> dict[str, Any]:
    stored = sandbox.find("checkout.session", session_id)
    if stored is None:
        raise resource_missing("checkout.session", session_id)
    return stored.obj
