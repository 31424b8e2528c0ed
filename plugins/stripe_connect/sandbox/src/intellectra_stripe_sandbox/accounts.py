"""Connected accounts and account links: ``/v1/accounts``, ``/v1/account``, ``/v1/account_links``.

An account's status fields (``charges_enabled``, ``payouts_enabled``, ``details_submitted``, ``requirements``,
``capabilities``) change through onboarding, the dashboard, API updates and the control API; every change
goes through ``change_account`` so that it emits ``account.updated`` with ``previous_attributes``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from . import ids
from .api import Context, endpoint
from .errors import StripeError, exclusive_parameters, missing_parameter, resource_missing
from .events import NO_ORIGIN, Origin, diff, emit
from .listing import paginate
from .objects import build
from .params import Bool, Enum, Free, Int, Metadata, Obj, Str, merge_metadata
from .state import AccountLink, Sandbox

#: What a fresh account must provide before it can take payments (a representative subset of Stripe's).
DEFAULT_REQUIREMENTS = (
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.first_name",
    "individual.last_name",
    "individual.verification.document",
    "tos_acceptance.date",
    "tos_acceptance.ip",
)
PENDING_VERIFICATION = ("individual.verification.document",)
REQUIREMENT_LISTS = ("currently_due", "eventually_due", "past_due", "pending_verification")


def _controller(payer: str, losses: str, collection: str, dashboard: str) -> dict[str, Any]:
    return {"fees": {"payer": payer}, "is_controller": True, "losses": {"payments": losses},
            "requirement_collection": collection, "stripe_dashboard": {"type": dashboard}, "type": "application"}


# Who pays Stripe's fees, bears losses and collects requirements, and which dashboard, per account type.
CONTROLLERS: dict[str, dict[str, Any]] = {
    "standard": _controller("account", "stripe", "stripe", "full"),
    "express": _controller("application", "application", "stripe", "express"),
    "custom": _controller("application", "application", "application", "none"),
}

CURRENCIES = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "JP": "jpy", "CH": "chf", "NZ": "nzd"}
EURO = {"AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PT"}

_CAPABILITY = Obj({"requested": Bool()})
BUSINESS_PROFILE = Obj(
    {
        "annual_revenue": Free(),
        "estimated_worker_count": Int(),
        "mcc": Str(),
        "minority_owned_business_designation": Free(),
        "monthly_estimated_revenue": Free(),
        "name": Str(),
        "product_description": Str(),
        "support_address": Free(),
        "support_email": Str(),
        "support_phone": Str(),
        "support_url": Str(),
        "url": Str(),
    }
)
_UPDATABLE = {
    "account_token": Str(),
    "business_profile": BUSINESS_PROFILE,
    "business_type": Enum("company", "government_entity", "individual", "non_profit", unsettable=True),
    "capabilities": Free(),  # validated below: {name: {requested: bool}}
    "company": Free(),
    "default_currency": Str(),
    "documents": Free(),
    "email": Str(),
    "external_account": Str(),
    "groups": Free(),
    "individual": Free(),
    "metadata": Metadata(),
    "settings": Free(),
    "tos_acceptance": Obj({"date": Int(), "ip": Str(), "service_agreement": Str(), "user_agent": Str()}),
}
CREATE_SCHEMA = Obj(
    {
        **_UPDATABLE,
        "controller": Obj(
            {
                "fees": Obj({"payer": Enum("account", "application")}),
                "losses": Obj({"payments": Enum("application", "stripe")}),
                "requirement_collection": Enum("application", "stripe"),
                "stripe_dashboard": Obj({"type": Enum("express", "full", "none")}),
            }
        ),
        "country": Str(),
        "type": Enum("custom", "express", "standard"),
    }
)
UPDATE_SCHEMA = Obj(_UPDATABLE)
LINK_SCHEMA = Obj(
    {
        "account": Str(unsettable=False),
        "collect": Enum("currently_due", "eventually_due"),
        "collection_options": Obj(
            {
                "fields": Enum("currently_due", "eventually_due"),
                "future_requirements": Enum("include", "omit"),
            }
        ),
        "refresh_url": Str(),
        "return_url": Str(),
        "type": Enum("account_onboarding", "account_update"),
    },
    required=("account", "type"),
)
LIST_SCHEMA = Obj(
    {"created": Free(), "ending_before": Str(), "limit": Int(minimum=1, maximum=100), "starting_after": Str()}
)


# -- domain --------------------------------------------------------------------------------------------------
def new_account(
    sandbox: Sandbox,
    *,
    livemode: bool,
    account_type: str = "standard",
    controller: dict[str, Any] | None = None,
    email: str | None = None,
    country: str = "US",
    business_name: str | None = None,
    requirements: Iterable[str] | None = None,
    verified: bool = False,
) -> dict[str, Any]:
    """A new account, stored (not connected, no event): unverified with ``requirements`` due, or verified."""
    account_id = ids.new_id("acct", 16)
    account = build(
        "account",
        id=account_id,
        created=sandbox.now(),
        email=email,
        country=country,
        default_currency=default_currency(country),
        type=account_type,
        controller=copy.deepcopy(controller) if controller is not None else {"type": "account"},
        capabilities={"card_payments": "inactive", "transfers": "inactive"},
    )
    account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
    account["business_profile"]["name"] = business_name
    account["settings"]["dashboard"]["display_name"] = business_name
    due = list(DEFAULT_REQUIREMENTS if requirements is None else requirements)
    account["requirements"] = {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }
    derive_status(account)
    if verified:
        mark_verified(account, sandbox.now())
    with sandbox.lock:
        sandbox.accounts[account_id] = account
        sandbox.account_modes[account_id] = livemode
    return account


def default_currency(country: str) -> str:
    return "eur" if country in EURO else CURRENCIES.get(country, "usd")


def derive_status(account: dict[str, Any], *, explicit: Iterable[str] = ()) -> None:
    """Recompute the status flags from ``requirements`` (fields named in ``explicit`` are left as set)."""
    explicit = set(explicit)
    req = account["requirements"]
    if "disabled_reason" not in explicit:
        if req["past_due"]:
            req["disabled_reason"] = "requirements.past_due"
        elif req["pending_verification"]:
            req["disabled_reason"] = "requirements.pending_verification"
        elif req.get("disabled_reason") in ("requirements.past_due", "requirements.pending_verification"):
            req["disabled_reason"] = None
    if "charges_enabled" not in explicit:
        account["charges_enabled"] = bool(account["details_submitted"] and req["disabled_reason"] is None)
    if "payouts_enabled" not in explicit:
        due = set(req["currently_due"]) | set(req["past_due"])
        account["payouts_enabled"] = bool(account["charges_enabled"] and "external_account" not in due)
    if account["charges_enabled"]:
        state = "active"
    elif req["disabled_reason"] == "requirements.pending_verification":
        state = "pending"
    else:
        state = "inactive"
    account["capabilities"] = {name: state for name in account["capabilities"]}


def mark_verified(account: dict[str, Any], now: int) -> None:
    """Everything provided and verified: no requirements, charges and payouts enabled."""
    account["details_submitted"] = True
    account["requirements"].update(
        current_deadline=None,
        disabled_reason=None,
        errors=[],
        **{name: [] for name in REQUIREMENT_LISTS},
    )
    account["tos_acceptance"].update(date=account["tos_acceptance"]["date"] or now, ip="127.0.0.1")
    derive_status(account)


def mark_pending(account: dict[str, Any], now: int) -> None:
    """Details submitted, verification still pending: not yet enabled ("Submit, but leave … pending")."""
    account["details_submitted"] = True
    account["requirements"].update(
        current_deadline=None,
        disabled_reason=None,
        errors=[],
        currently_due=[],
        eventually_due=[],
        past_due=[],
        pending_verification=list(PENDING_VERIFICATION),
    )
    account["tos_acceptance"].update(date=account["tos_acceptance"]["date"] or now, ip="127.0.0.1")
    derive_status(account)


def change_account(
    sandbox: Sandbox,
    account_id: str,
    mutate: Callable[[dict[str, Any]], None],
    *,
    origin: Origin = NO_ORIGIN,
) -> dict[str, Any]:
    """Apply ``mutate`` and, if anything changed, emit ``account.updated`` with ``previous_attributes``."""
    with sandbox.lock:
        account = sandbox.accounts[account_id]
        before = copy.deepcopy(account)
        mutate(account)
        changed = diff(before, account)
        if changed:
            livemode = sandbox.account_modes.get(account_id, False)
            modes = [m for m in (False, True) if sandbox.is_connected(account_id, m)] or [livemode]
            for mode in modes:
                emit(
                    sandbox,
                    "account.updated",
                    account,
                    account=account_id,
                    livemode=mode,
                    previous=changed,
                    origin=origin,
                )
        return account


def satisfy(account: dict[str, Any], params: dict[str, Any]) -> None:
    """Remove the requirements that the provided parameters satisfy (e.g. ``business_profile[url]``)."""
    provided = set(_leaf_paths(params))
    if params.get("external_account"):
        provided.add("external_account")
    req = account["requirements"]
    for name in REQUIREMENT_LISTS:
        req[name] = [r for r in req[name] if not any(p == r or p.startswith(r + ".") for p in provided)]


def _leaf_paths(params: Any, prefix: str = "") -> Iterable[str]:
    if isinstance(params, dict):
        for key, value in params.items():
            yield from _leaf_paths(value, f"{prefix}.{key}" if prefix else key)
    elif params not in (None, ""):
        yield prefix


def _apply(account: dict[str, Any], params: dict[str, Any]) -> None:
    """Store the writable fields we model on the account object."""
    for key in ("email", "business_type", "default_currency"):
        if key in params:
            account[key] = params[key]
    if params.get("business_profile"):
        account["business_profile"].update(params["business_profile"])
    if "metadata" in params:
        account["metadata"] = merge_metadata(account["metadata"], params["metadata"])
    if params.get("tos_acceptance"):
        account["tos_acceptance"].update(params["tos_acceptance"])
    if params.get("settings"):
        for section, values in params["settings"].items():
            if isinstance(values, dict) and isinstance(account["settings"].get(section), dict):
                account["settings"][section].update(values)
    if params.get("capabilities"):
        for name in params["capabilities"]:
            account["capabilities"].setdefault(name, "inactive")


def _check_capabilities(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise StripeError("Invalid hash", param="capabilities")
    for name, options in value.items():
        _CAPABILITY.check(options, f"capabilities[{name}]")


def _account_type(controller: dict[str, Any]) -> str:
    """Accounts created with ``controller`` report the legacy type their configuration matches, else none."""
    for name, config in CONTROLLERS.items():
        if all(config.get(key) == value for key, value in controller.items()):
            return name
    return "none"


def visible_account(ctx: Context, account_id: str) -> dict[str, Any]:
    """The account if the caller may see it: its own, or one connected to the platform (``connected_account``)."""
    if ctx.caller.account is not None and account_id != ctx.caller.account:
        raise StripeError(
            "Only the platform may retrieve other accounts.",
            status=403,
            type="invalid_request_error",
            code="account_invalid",
        )
    return connected_account(ctx, account_id)


def connected_account(ctx: Context, account_id: str, param: str | None = None) -> dict[str, Any]:
    """The account if it exists (else 404) and is connected to the platform in the caller's mode (else 403)."""
    sandbox = ctx.sandbox
    if account_id not in sandbox.accounts:
        raise resource_missing("account", account_id, "account")
    if not sandbox.is_connected(account_id, ctx.caller.livemode):
        raise StripeError(
            f"The provided key does not have access to account '{account_id}' (or that account does not "
            "exist). Application access may have been revoked.",
            status=403,
            code="account_invalid",
            param=param,
        )
    return sandbox.accounts[account_id]


# -- endpoints -----------------------------------------------------------------------------------------------
@endpoint(CREATE_SCHEMA)
def create_account(ctx: Context) -> dict[str, Any]:
    """``POST /v1/accounts``: a new account, connected to (and controlled by) the platform."""
    params, sandbox = ctx.params, ctx.sandbox
    if ctx.caller.account is not None:
        raise StripeError(
            "You cannot create accounts on behalf of a connected account (remove the Stripe-Account header).",
            status=400,
        )
    _check_capabilities(params.get("capabilities"))
    if params.get("type") and params.get("controller"):
        raise exclusive_parameters("type", "controller")
    if params.get("controller"):
        account_type = _account_type(params["controller"])
        base = CONTROLLERS.get(account_type, CONTROLLERS["standard"])
        controller = {**copy.deepcopy(base), **copy.deepcopy(params["controller"])}
        controller.update(is_controller=True, type="application")
    else:
        account_type = params.get("type") or "standard"
        controller = copy.deepcopy(CONTROLLERS[account_type])
    if account_type in ("express", "custom") and not params.get("capabilities"):
        raise missing_parameter("capabilities")
    country = (params.get("country") or "US").upper()
    account = new_account(
        sandbox,
        livemode=ctx.caller.livemode,
        account_type=account_type,
        controller=controller,
        email=params.get("email"),
        country=country,
    )
    _apply(account, params)
    satisfy(account, params)
    derive_status(account)
    sandbox.connect(account["id"], ctx.caller.livemode, scope="read_write", source="api")
    return account


@endpoint(Obj({}))
def retrieve_account(ctx: Context) -> dict[str, Any]:
    """``GET /v1/accounts/{id}``."""
    return visible_account(ctx, ctx.path_params["id"])


@endpoint(Obj({}))
def retrieve_own_account(ctx: Context) -> dict[str, Any]:
    """``GET /v1/account``: the connected account named by ``Stripe-Account``, else the platform."""
    if ctx.caller.account is None:
        return ctx.sandbox.platform_account()
    return ctx.sandbox.accounts[ctx.caller.account]


@endpoint(UPDATE_SCHEMA)
def update_account(ctx: Context) -> dict[str, Any]:
    """``POST /v1/accounts/{id}``: fields provided satisfy matching requirements; emits ``account.updated``."""
    account = visible_account(ctx, ctx.path_params["id"])
    params = ctx.params
    _check_capabilities(params.get("capabilities"))
    if account["controller"].get("type") == "account":
        forbidden = sorted(k for k in params if k not in ("metadata", "expand"))
        if forbidden:
            raise StripeError(
                f"This application does not have the required permissions for the parameter '{forbidden[0]}' "
                f"on account '{account['id']}'.",
                status=403,
                param=forbidden[0],
            )

    def mutate(acct: dict[str, Any]) -> None:
        _apply(acct, params)
        satisfy(acct, params)
        if acct["controller"].get("requirement_collection") == "application":
            req = acct["requirements"]
            if not req["currently_due"] and not req["past_due"]:
                acct["details_submitted"] = True
        derive_status(acct)

    return change_account(ctx.sandbox, account["id"], mutate, origin=ctx.origin)


@endpoint(LIST_SCHEMA)
def list_accounts(ctx: Context) -> dict[str, Any]:
    """``GET /v1/accounts``: the platform's connected accounts in this mode, newest first."""
    sandbox = ctx.sandbox
    items = [
        sandbox.accounts[acct]
        for (acct, mode) in sandbox.connections
        if mode == ctx.caller.livemode and acct in sandbox.accounts
    ]
    items.sort(key=lambda a: a["created"], reverse=True)
    return paginate(items, ctx.params, "/v1/accounts")


@endpoint(LINK_SCHEMA)
def create_account_link(ctx: Context) -> dict[str, Any]:
    """``POST /v1/account_links``: a single-use onboarding URL that expires (sandbox clock)."""
    params, sandbox = ctx.params, ctx.sandbox
    if ctx.caller.account is not None:
        raise StripeError("Account Links must be created by the platform (remove the Stripe-Account header).")
    account_id = params["account"]
    account = connected_account(ctx, account_id, param="account")
    if params["type"] == "account_update" and account["controller"].get("requirement_collection") != "application":
        raise StripeError(
            "You cannot create `account_update` type Account Links for accounts where the platform does not "
            "collect requirements (controller[requirement_collection]=stripe).",
            param="type",
        )
    for url_param in ("refresh_url", "return_url"):
        url = params.get(url_param)
        if url is not None and not url.startswith(("http://", "https://")):
            raise StripeError("Not a valid URL", param=url_param, code="url_invalid")
    now = sandbox.now()
    token = ids.random_part(32)
    link = AccountLink(
        token=token,
        account=account_id,
        livemode=ctx.caller.livemode,
        type=params["type"],
        refresh_url=params.get("refresh_url"),
        return_url=params.get("return_url"),
        created=now,
        expires_at=now + 300,
    )
    sandbox.account_links[token] = link
    return build(
        "account_link",
        created=now,
        expires_at=link.expires_at,
        url=f"{ctx.base_url}/setup/s/{account_id}/{token}",
    )
