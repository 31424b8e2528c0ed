"""Products and prices (``/v1/products``, ``/v1/prices``), on the platform or a connected account.

Objects live in the scope of the request (``Stripe-Account``) and mode of the key; a price's product must exist
in that same scope, as in Stripe.
"""

from __future__ import annotations

from typing import Any

from . import ids
from .api import Context, endpoint
from .errors import StripeError, exclusive_parameters, missing_parameter
from .events import emit_for
from .listing import CREATED, PAGE, created_matches, paginate, scoped
from .objects import build
from .params import Arr, Bool, Decimal, Enum, Free, Int, Metadata, Obj, Str, merge_metadata
from .state import Sandbox

RECURRING = Obj(
    {
        "interval": Enum("day", "month", "week", "year"),
        "interval_count": Int(minimum=1),
        "meter": Str(),
        "trial_period_days": Int(minimum=0),
        "usage_type": Enum("licensed", "metered"),
    },
    required=("interval",),
)
PRODUCT_FIELDS = {
    "active": Bool(),
    "description": Str(),
    "images": Arr(Str(), max_items=8),
    "marketing_features": Arr(Obj({"name": Str()})),
    "metadata": Metadata(),
    "package_dimensions": Free(),
    "shippable": Bool(),
    "statement_descriptor": Str(max_length=22),
    "tax_code": Str(),
    "unit_label": Str(max_length=12),
    "url": Str(),
}
PRODUCT_CREATE = Obj(
    {
        **PRODUCT_FIELDS,
        "name": Str(unsettable=False),
        "id": Str(),
        "default_price_data": Obj(
            {
                "currency": Str(unsettable=False),
                "currency_options": Free(),
                "custom_unit_amount": Free(),
                "metadata": Metadata(),
                "recurring": Obj(
                    {"interval": RECURRING.fields["interval"], "interval_count": Int(minimum=1)},
                    required=("interval",),
                ),
                "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
                "unit_amount": Int(minimum=0),
                "unit_amount_decimal": Decimal(),
            },
            required=("currency",),
        ),
    },
    required=("name",),
)
PRODUCT_UPDATE = Obj({**PRODUCT_FIELDS, "name": Str(unsettable=False), "default_price": Str()})
PRICE_CREATE = Obj(
    {
        "active": Bool(),
        "billing_scheme": Enum("per_unit", "tiered"),
        "currency": Str(unsettable=False),
        "currency_options": Free(),
        "custom_unit_amount": Free(),
        "lookup_key": Str(),
        "metadata": Metadata(),
        "nickname": Str(),
        "product": Str(),
        "product_data": Obj(
            {
                "active": Bool(),
                "id": Str(),
                "metadata": Metadata(),
                "name": Str(unsettable=False),
                "statement_descriptor": Str(max_length=22),
                "tax_code": Str(),
                "unit_label": Str(),
            },
            required=("name",),
        ),
        "recurring": RECURRING,
        "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
        "tiers": Free(),
        "tiers_mode": Enum("graduated", "volume"),
        "transfer_lookup_key": Bool(),
        "transform_quantity": Free(),
        "unit_amount": Int(minimum=0),
        "unit_amount_decimal": Decimal(),
    },
    required=("currency",),
)
PRICE_UPDATE = Obj(
    {
        "active": Bool(),
        "lookup_key": Str(),
        "metadata": Metadata(),
        "nickname": Str(),
        "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
        "transfer_lookup_key": Bool(),
    }
)


def new_product(sandbox: Sandbox, params: dict[str, Any], account: str | None, livemode: bool) -> dict[str, Any]:
    now = sandbox.now()
    product_id = params.get("id") or ids.new_id("prod", 14)
    if sandbox.find("product", product_id) is not None:
        raise StripeError("Product already exists.", param="id", code="resource_already_exists")
    product = build(
        "product",
        id=product_id,
        name=params["name"],
        active=params.get("active", True) is not False,
        created=now,
        updated=now,
        default_price=None,
        description=params.get("description"),
        images=params.get("images") or [],
        livemode=livemode,
        marketing_features=params.get("marketing_features") or [],
        metadata=merge_metadata({}, params.get("metadata") or {}),
        package_dimensions=params.get("package_dimensions"),
        shippable=params.get("shippable"),
        statement_descriptor=params.get("statement_descriptor"),
        tax_code=params.get("tax_code"),
        unit_label=params.get("unit_label"),
        url=params.get("url"),
        type="service",
    )
    return sandbox.store("product", product, account, livemode)


def new_price(
    sandbox: Sandbox, params: dict[str, Any], product_id: str, account: str | None, livemode: bool
) -> dict[str, Any]:
    amount = params.get("unit_amount")
    if amount is None and params.get("unit_amount_decimal") is not None:
        amount = round(params["unit_amount_decimal"])
    recurring = params.get("recurring")
    price = build(
        "price",
        id=ids.new_id("price", 24),
        active=params.get("active", True) is not False,
        billing_scheme=params.get("billing_scheme") or "per_unit",
        created=sandbox.now(),
        currency=params["currency"].lower(),
        custom_unit_amount=None,
        livemode=livemode,
        lookup_key=params.get("lookup_key"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
        nickname=params.get("nickname"),
        product=product_id,
        recurring=(
            {
                "interval": recurring["interval"],
                "interval_count": recurring.get("interval_count") or 1,
                "meter": recurring.get("meter"),
                "trial_period_days": recurring.get("trial_period_days"),
                "usage_type": recurring.get("usage_type") or "licensed",
            }
            if recurring
            else None
        ),
        tax_behavior=params.get("tax_behavior") or "unspecified",
        tiers_mode=params.get("tiers_mode"),
        transform_quantity=None,
        type="recurring" if recurring else "one_time",
        unit_amount=amount,
        unit_amount_decimal=str(params.get("unit_amount_decimal") or amount) if amount is not None else None,
    )
    return sandbox.store("price", price, account, livemode)


def _check_amount(params: dict[str, Any], prefix: str = "") -> None:
    has_amount = params.get("unit_amount") is not None
    has_decimal = params.get("unit_amount_decimal") is not None
    if has_amount and has_decimal:
        raise exclusive_parameters(prefix + "unit_amount", prefix + "unit_amount_decimal")
    if not has_amount and not has_decimal and not params.get("custom_unit_amount") and not params.get("tiers"):
        raise missing_parameter(prefix + "unit_amount")


@endpoint(PRODUCT_CREATE)
def create_product(ctx: Context) -> dict[str, Any]:
    """``POST /v1/products`` (with ``default_price_data`` creating the default price too)."""
    caller, sandbox = ctx.caller, ctx.sandbox
    if ctx.params.get("default_price_data"):
        _check_amount(ctx.params["default_price_data"], "default_price_data[")
    product = new_product(sandbox, ctx.params, caller.account, caller.livemode)
    emit_for(ctx, "product.created", product)
    if ctx.params.get("default_price_data"):
        price = new_price(sandbox, ctx.params["default_price_data"], product["id"], caller.account, caller.livemode)
        product["default_price"] = price["id"]
        emit_for(ctx, "price.created", price)
    return product


@endpoint(Obj({}))
def retrieve_product(ctx: Context) -> dict[str, Any]:
    return ctx.lookup("product", ctx.path_params["id"])


@endpoint(PRODUCT_UPDATE)
def update_product(ctx: Context) -> dict[str, Any]:
    """``POST /v1/products/{id}``: emits ``product.updated`` with ``previous_attributes``."""
    from .events import diff

    sandbox, params = ctx.sandbox, ctx.params
    product = ctx.lookup("product", ctx.path_params["id"])
    before = sandbox.snapshot(product)
    for key, value in params.items():
        if key == "metadata":
            product["metadata"] = merge_metadata(product["metadata"], value)
        elif key == "default_price":
            ctx.named("price", value, "default_price")
            product["default_price"] = value
        elif key != "expand":
            product[key] = value
    changed = diff(before, product)
    if changed:
        product["updated"] = sandbox.now()
        emit_for(ctx, "product.updated", product, previous=changed)
    return product


@endpoint(PRICE_CREATE)
def create_price(ctx: Context) -> dict[str, Any]:
    """``POST /v1/prices``: needs ``product`` (same account) or ``product_data``, and an amount."""
    caller, sandbox, params = ctx.caller, ctx.sandbox, ctx.params
    if params.get("product") and params.get("product_data"):
        raise exclusive_parameters("product", "product_data")
    if not params.get("product") and not params.get("product_data"):
        raise missing_parameter("product")
    _check_amount(params)
    if params.get("product"):
        product = ctx.named("product", params["product"], "product")
    else:
        product = new_product(sandbox, params["product_data"], caller.account, caller.livemode)
        emit_for(ctx, "product.created", product)
    price = new_price(sandbox, params, product["id"], caller.account, caller.livemode)
    emit_for(ctx, "price.created", price)
    return price


@endpoint(Obj({}))
def retrieve_price(ctx: Context) -> dict[str, Any]:
    return ctx.lookup("price", ctx.path_params["id"])


@endpoint(PRICE_UPDATE)
def update_price(ctx: Context) -> dict[str, Any]:
    """``POST /v1/prices/{id}``: only the mutable fields (amounts cannot change, as in Stripe)."""
    price = ctx.lookup("price", ctx.path_params["id"])
    for key, value in ctx.params.items():
        if key == "metadata":
            price["metadata"] = merge_metadata(price["metadata"], value)
        elif key != "expand":
            price[key] = value
    return price


PRODUCT_LIST = Obj(
    {**PAGE, "active": Bool(), "created": CREATED, "ids": Arr(Str()), "shippable": Bool(), "url": Str()}
)
PRICE_LIST = Obj(
    {
        **PAGE,
        "active": Bool(),
        "created": CREATED,
        "currency": Str(),
        "lookup_keys": Arr(Str(), max_items=10),
        "product": Str(),
        "recurring": Obj({"interval": RECURRING.fields["interval"], "meter": Str(),
                          "usage_type": RECURRING.fields["usage_type"]}),
        "type": Enum("one_time", "recurring"),
    }
)


def _equal_if_given(obj: dict[str, Any], params: dict[str, Any], *names: str) -> bool:
    return all(params.get(name) is None or obj[name] == params[name] for name in names)


@endpoint(PRODUCT_LIST)
def list_products(ctx: Context) -> dict[str, Any]:
    """``GET /v1/products``: the caller's products, newest first (``active``, ``ids``, ``created``...)."""
    params = ctx.params
    wanted = set(params.get("ids") or [])
    items = [
        product
        for product in scoped(ctx.sandbox, "product", ctx.caller.account, ctx.caller.livemode)
        if created_matches(product, params)
        and _equal_if_given(product, params, "active", "shippable", "url")
        and (not wanted or product["id"] in wanted)
    ]
    return paginate(items, params, "/v1/products", "product")


def _recurring_matches(price: dict[str, Any], wanted: dict[str, Any] | None) -> bool:
    if not wanted:
        return True
    recurring = price["recurring"]
    return recurring is not None and all(recurring.get(k) == v for k, v in wanted.items() if v is not None)


@endpoint(PRICE_LIST)
def list_prices(ctx: Context) -> dict[str, Any]:
    """``GET /v1/prices``: the caller's prices, newest first (``product``, ``active``, ``type``...)."""
    params = ctx.params
    keys = set(params.get("lookup_keys") or [])
    currency = (params.get("currency") or "").lower()
    items = [
        price
        for price in scoped(ctx.sandbox, "price", ctx.caller.account, ctx.caller.livemode)
        if created_matches(price, params)
        and _equal_if_given(price, params, "active", "product", "type")
        and (not currency or price["currency"] == currency)
        and (not keys or price["lookup_key"] in keys)
        and _recurring_matches(price, params.get("recurring"))
    ]
    return paginate(items, params, "/v1/prices", "price")
