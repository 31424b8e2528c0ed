"""Test controls under ``/_sandbox/`` (JSON in, JSON out): what happens outside the platform's API calls.

Tests and the demo use them to create accounts in a given state, change requirements, open and close
disputes, settle payouts, pay a session without the page, resend events, read webhook attempts, and move the
sandbox clock. They are not part of Stripe; they need no key.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import checkout, payments
from .access import deauthorize
from .accounts import (
    CONTROLLERS,
    REQUIREMENT_LISTS,
    change_account,
    derive_status,
    mark_verified,
    new_account,
)
from .api import sandbox_of
from .errors import StripeError, resource_missing
from .events import resend
from .state import Sandbox

ControlHandler = Callable[[Sandbox, Request, dict[str, Any]], Any]


def control(handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        sandbox = sandbox_of(request)
        try:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError as exc:
                raise StripeError(f"Invalid JSON body: {exc}") from exc
            if not isinstance(body, dict):
                raise StripeError("The JSON body must be an object.")
            with sandbox.lock:
                result = handler(sandbox, request, body)
            return JSONResponse(result)
        except StripeError as exc:
            return exc.response()

    route.__name__ = handler.__name__
    return route


def _stored(sandbox: Sandbox, kind: str, object_id: str) -> dict[str, Any]:
    stored = sandbox.find(kind, object_id)
    if stored is None:
        raise resource_missing(kind, object_id)
    return stored.obj


def _account(sandbox: Sandbox, account_id: str) -> dict[str, Any]:
    if account_id not in sandbox.accounts:
        raise resource_missing("account", account_id)
    return sandbox.accounts[account_id]


def info(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``GET /_sandbox``: keys, client id, redirect URIs, endpoints (for the demo and humans)."""
    base = str(request.base_url).rstrip("/")
    return {
        "url": base,
        "secret_key": sandbox.secret_key,
        "live_secret_key": sandbox.live_secret_key,
        "publishable_key": sandbox.publishable_key(False),
        "client_id": sandbox.client_id,
        "redirect_uris": sandbox.redirect_uris,
        "api_version": sandbox.api_version,
        "platform_account": sandbox.platform_id,
        "webhook_endpoints": [{"id": e.id, "url": e.url, "connect": e.connect} for e in sandbox.endpoints],
        "clock": {"now": sandbox.now_float(), "offset": sandbox.clock_offset},
    }


def create_account(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/accounts``: an account in a given state.

    Body: ``email``, ``business_name``, ``country`` (US), ``type`` (standard; ``oauth`` style controller unless
    ``connected``), ``livemode`` (false), ``verified`` (false), ``requirements`` (list of currently due fields),
    ``connected`` (false: the account exists but is not yet connected to the platform, as for OAuth).
    """
    account_type = body.get("type", "standard")
    if account_type not in CONTROLLERS:
        raise StripeError("Invalid type: must be one of standard, express, or custom", param="type")
    livemode = bool(body.get("livemode", False))
    connected = bool(body.get("connected", False))
    account = new_account(
        sandbox,
        livemode=livemode,
        account_type=account_type,
        controller=CONTROLLERS[account_type] if connected else None,
        email=body.get("email"),
        country=body.get("country", "US"),
        business_name=body.get("business_name"),
        requirements=body.get("requirements"),
        verified=bool(body.get("verified", False)),
    )
    if connected:
        sandbox.connect(account["id"], livemode, scope="read_write", source="api")
    return account


def get_account(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    account = _account(sandbox, request.path_params["id"])
    return {
        **account,
        "_connected": [m for m in (False, True) if sandbox.is_connected(account["id"], m)],
        "_livemode": sandbox.account_modes.get(account["id"], False),
    }


STATUS_FIELDS = ("charges_enabled", "payouts_enabled", "details_submitted")
REQUIREMENT_FIELDS = (*REQUIREMENT_LISTS, "disabled_reason", "current_deadline", "errors")


def set_requirements(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/accounts/{id}/requirements``: set any of ``currently_due``, ``eventually_due``,
    ``past_due``, ``pending_verification``, ``errors``, ``disabled_reason``, ``current_deadline`` and (else
    derived) ``charges_enabled``, ``payouts_enabled``, ``details_submitted``; emits ``account.updated``."""
    unknown = sorted(set(body) - set(STATUS_FIELDS) - set(REQUIREMENT_FIELDS))
    if unknown:
        raise StripeError(f"Received unknown parameter: {unknown[0]}", code="parameter_unknown", param=unknown[0])
    account_id = _account(sandbox, request.path_params["id"])["id"]

    def mutate(account: dict[str, Any]) -> None:
        for name in REQUIREMENT_FIELDS:
            if name in body:
                account["requirements"][name] = body[name]
        for name in STATUS_FIELDS:
            if name in body:
                account[name] = bool(body[name])
        derive_status(account, explicit=[k for k in body if k in (*STATUS_FIELDS, "disabled_reason")])

    return change_account(sandbox, account_id, mutate)


def verify(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/accounts/{id}/verify``: everything provided and verified (charges/payouts on)."""
    account_id = _account(sandbox, request.path_params["id"])["id"]
    now = sandbox.now()
    return change_account(sandbox, account_id, lambda account: mark_verified(account, now))


def deauthorize_account(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/accounts/{id}/deauthorize``: the account owner disconnects the platform."""
    account_id = _account(sandbox, request.path_params["id"])["id"]
    return {"stripe_user_id": account_id, "deauthorized": deauthorize(sandbox, account_id)}


def connect_account(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/accounts/{id}/connect``: connect without the OAuth pages (``livemode`` optional)."""
    account_id = _account(sandbox, request.path_params["id"])["id"]
    sandbox.connect(account_id, bool(body.get("livemode", False)), scope="read_write", source="oauth")
    return {"stripe_user_id": account_id}


def new_payout(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/accounts/{id}/payouts`` ``{"amount", "currency"?}``: a payout in transit."""
    account_id = _account(sandbox, request.path_params["id"])["id"]
    return payments.create_payout(
        sandbox,
        account_id,
        amount=int(body.get("amount", 1000)),
        currency=body.get("currency", "usd"),
        livemode=sandbox.account_modes.get(account_id, False),
    )


def payout_paid(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    _stored(sandbox, "payout", request.path_params["id"])
    return payments.settle_payout(sandbox, request.path_params["id"], "paid")


def payout_failed(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    _stored(sandbox, "payout", request.path_params["id"])
    return payments.settle_payout(
        sandbox, request.path_params["id"], "failed", body.get("failure_code", "account_closed")
    )


def dispute_charge(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/charges/{id}/dispute`` ``{"reason"?, "amount"?}``."""
    _stored(sandbox, "charge", request.path_params["id"])
    return payments.open_dispute(
        sandbox, request.path_params["id"], reason=body.get("reason", "fraudulent"), amount=body.get("amount")
    )


def close_dispute(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/disputes/{id}/close`` ``{"outcome": "won" | "lost"}``."""
    _stored(sandbox, "dispute", request.path_params["id"])
    return payments.close_dispute(sandbox, request.path_params["id"], body.get("outcome", ""))


def pay_session(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/checkout/sessions/{id}/pay`` ``{"email"?, "name"?}``: pay without the page."""
    _stored(sandbox, "checkout.session", request.path_params["id"])
    return checkout.pay(sandbox, request.path_params["id"], email=body.get("email"), name=body.get("name"))


def list_events(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``GET /_sandbox/events?account=&type=``: every event, oldest first."""
    account = request.query_params.get("account")
    event_type = request.query_params.get("type")
    return {
        "data": [
            s.obj
            for s in sandbox.events
            if (account is None or s.account == account) and (event_type is None or s.obj["type"] == event_type)
        ]
    }


def resend_event(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/events/{id}/resend`` ``{"times": 1, "concurrent": false}``."""
    times = int(body.get("times", 1))
    if not 1 <= times <= 50:
        raise StripeError("times must be between 1 and 50", param="times")
    resend(sandbox, request.path_params["id"], times=times, concurrent=bool(body.get("concurrent", False)))
    return {"event": request.path_params["id"], "times": times}


def list_attempts(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``GET /_sandbox/webhook_attempts?event=``: delivery attempts in the order they finished."""
    event_id = request.query_params.get("event")
    return {"data": [a.as_dict() for a in sandbox.attempts if event_id is None or a.event_id == event_id]}


def list_endpoints(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    return {"data": [{"id": e.id, "url": e.url, "connect": e.connect} for e in sandbox.endpoints]}


def add_endpoint(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``POST /_sandbox/webhook_endpoints`` ``{"url", "secret", "connect": true}``."""
    try:
        endpoint = sandbox.add_webhook_endpoint(body["url"], body["secret"], connect=body.get("connect", True))
    except KeyError as exc:
        raise StripeError(f"Missing required param: {exc.args[0]}.", code="parameter_missing") from exc
    except ValueError as exc:
        raise StripeError(str(exc), param="secret") from exc
    return {"id": endpoint.id, "url": endpoint.url, "connect": endpoint.connect}


def remove_endpoint(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    sandbox.remove_webhook_endpoint(request.path_params["id"])
    return {"id": request.path_params["id"], "deleted": True}


def clock(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``GET|POST /_sandbox/clock``: ``{"offset": s}`` sets, ``{"advance": s}`` adds to the offset."""
    if "offset" in body:
        sandbox.clock_offset = float(body["offset"])
    if "advance" in body:
        sandbox.clock_offset += float(body["advance"])
    return {"now": sandbox.now_float(), "offset": sandbox.clock_offset}


def list_requests(sandbox: Sandbox, request: Request, body: dict[str, Any]) -> Any:
    """``GET /_sandbox/requests``: recent API requests with their Stripe-Version / Stripe-Account headers."""
    return {"data": [r.as_dict() for r in sandbox.requests]}


def routes() -> list[Route]:
    post, get = ["POST"], ["GET"]
    return [
        Route("/_sandbox", control(info), methods=get),
        Route("/_sandbox/accounts", control(create_account), methods=post),
        Route("/_sandbox/accounts/{id}", control(get_account), methods=get),
        Route("/_sandbox/accounts/{id}/requirements", control(set_requirements), methods=post),
        Route("/_sandbox/accounts/{id}/verify", control(verify), methods=post),
        Route("/_sandbox/accounts/{id}/deauthorize", control(deauthorize_account), methods=post),
        Route("/_sandbox/accounts/{id}/connect", control(connect_account), methods=post),
        Route("/_sandbox/accounts/{id}/payouts", control(new_payout), methods=post),
        Route("/_sandbox/payouts/{id}/paid", control(payout_paid), methods=post),
        Route("/_sandbox/payouts/{id}/failed", control(payout_failed), methods=post),
        Route("/_sandbox/charges/{id}/dispute", control(dispute_charge), methods=post),
        Route("/_sandbox/disputes/{id}/close", control(close_dispute), methods=post),
        Route("/_sandbox/checkout/sessions/{id}/pay", control(pay_session), methods=post),
        Route("/_sandbox/events", control(list_events), methods=get),
        Route("/_sandbox/events/{id}/resend", control(resend_event), methods=post),
        Route("/_sandbox/webhook_attempts", control(list_attempts), methods=get),
        Route("/_sandbox/webhook_endpoints", control(list_endpoints), methods=get),
        Route("/_sandbox/webhook_endpoints", control(add_endpoint), methods=post),
        Route("/_sandbox/webhook_endpoints/{id}", control(remove_endpoint), methods=["DELETE"]),
        Route("/_sandbox/clock", control(clock), methods=["GET", "POST"]),
        Route("/_sandbox/requests", control(list_requests), methods=get),
    ]
