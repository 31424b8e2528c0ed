"""The plumbing every ``/v1`` endpoint shares: authentication, ``Stripe-Account`` scoping, ``Stripe-Version``,
parameter parsing and validation, idempotent replays, ``expand``, and Stripe's error responses.

Endpoints are plain functions ``(ctx) -> dict`` wrapped by ``endpoint(schema)``; they raise ``StripeError``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Callable
from typing import Any

from attrs import define
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import ids
from .errors import StripeError, mask_key
from .forms import FormError, parse_query
from .params import Obj, validate
from .state import RequestRecord, Sandbox

VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, using "
    "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
    "for details, or we can help at https://support.stripe.com/."
)


@define(frozen=True)
class Caller:
    """Who is calling: the key's mode and the account the request acts on (None = the platform itself)."""

    key: str
    livemode: bool
    account: str | None
    via_token: bool  # authenticated with an OAuth access token of a connected account


@define
class Context:
    """One API request, as handed to an endpoint function."""

    request: Request
    sandbox: Sandbox
    caller: Caller
    params: dict[str, Any]
    request_id: str
    idempotency_key: str | None

    @property
    def path_params(self) -> dict[str, Any]:
        return self.request.path_params

    @property
    def origin(self) -> tuple[str, str | None]:
        """What events record as ``request``: this request's id and idempotency key."""
        return (self.request_id, self.idempotency_key)

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def lookup(self, kind: str, object_id: str, *, param: str | None = "id", status: int = 404) -> dict[str, Any]:
        """The object as the caller sees it (its account, its mode), else Stripe's "No such …" error."""
        return self.sandbox.lookup(kind, object_id, account=self.caller.account, livemode=self.caller.livemode,
                                   param=param, status=status)

    def named(self, kind: str, object_id: str, param: str) -> dict[str, Any]:
        """The object a request parameter names: one the caller cannot see is a 400 on that parameter."""
        return self.lookup(kind, object_id, param=param, status=400)


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def read_api_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer <key>`` (or HTTP basic with the key as user name, as curl -u)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def authenticate(request: Request, sandbox: Sandbox) -> Caller:
    key = read_api_key(request)
    if key is None:
        raise StripeError(NO_KEY, status=401)
    livemode = sandbox.key_mode(key)
    account: str | None = None
    via_token = False
    if livemode is None:
        with sandbox.lock:
            token = sandbox.tokens.get(key)
        if token is None or token.kind != "access":
            raise StripeError(f"Invalid API Key provided: {mask_key(key)}", status=401)
        if token.revoked:
            raise StripeError(
                f"Expired API Key provided: {mask_key(key)}. Application access may have been revoked.",
                status=401,
                code="api_key_expired",
            )
        livemode, account, via_token = token.livemode, token.account, True
    header = request.headers.get("stripe-account")
    if header:
        denied = StripeError(
            f"The provided key '{mask_key(key)}' does not have access to account '{header}' (or that account "
            "does not exist). Application access may have been revoked.",
            status=403,
            code="account_invalid",
        )
        if via_token:
            if header != account:
                raise denied
        elif header != sandbox.platform_id:
            if header not in sandbox.accounts or not sandbox.is_connected(header, livemode):
                raise denied
            account = header
    return Caller(key=key, livemode=livemode, account=account, via_token=via_token)


async def read_params(request: Request) -> dict[str, Any]:
    """Query string plus (for POST) the form body, in Stripe's bracket notation."""
    params = parse_query(request.url.query)
    if request.method == "POST":
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if body and "json" in content_type:
            raise StripeError("Invalid request: the v1 API accepts only application/x-www-form-urlencoded bodies.")
        params.update(parse_query(body))
    return params


Handler = Callable[[Context], Any]


def endpoint(schema: Obj | None = None) -> Callable[[Handler], Callable[[Request], Any]]:
    """Wrap an endpoint function with the shared request handling (see module docstring)."""

    def decorate(handler: Handler) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            sandbox = sandbox_of(request)
            request_id = ids.new_id("req", 14)
            record = RequestRecord(
                id=request_id,
                method=request.method,
                path=request.url.path,
                stripe_version=request.headers.get("stripe-version"),
                stripe_account=request.headers.get("stripe-account"),
                idempotency_key=request.headers.get("idempotency-key"),
            )
            with sandbox.lock:
                sandbox.requests.append(record)
            response = await _handle(request, sandbox, handler, schema, request_id, record)
            record.status = response.status_code
            return response

        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        return route

    return decorate


async def _handle(
    request: Request,
    sandbox: Sandbox,
    handler: Handler,
    schema: Obj | None,
    request_id: str,
    record: RequestRecord,
) -> Response:
    version = record.stripe_version or sandbox.api_version
    headers = {"Request-Id": request_id, "Stripe-Version": version}
    idempotency_key = record.idempotency_key if request.method == "POST" else None
    try:
        if record.stripe_version is not None and not VERSION_RE.match(record.stripe_version):
            raise StripeError(f"Invalid Stripe API version: {record.stripe_version}")
        caller = authenticate(request, sandbox)
        try:
            raw = await read_params(request)
        except FormError as exc:
            raise StripeError(str(exc), param=exc.param) from exc
        params = validate(raw, schema) if schema is not None else raw
        cache_key = (caller.key, caller.account, idempotency_key) if idempotency_key else None
        if cache_key is not None:
            with sandbox.lock:
                cached = sandbox.idempotency.get(cache_key)
            if cached is not None:
                if cached[0] != raw:
                    raise StripeError(
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{idempotency_key}' if you meant to "
                        "execute a different request.",
                        type="idempotency_error",
                    )
                headers["Idempotent-Replayed"] = "true"
                headers["Idempotency-Key"] = idempotency_key or ""
                return JSONResponse(cached[2], status_code=cached[1], headers=headers)
        ctx = Context(request, sandbox, caller, params, request_id, idempotency_key)
        with sandbox.lock:
            result = handler(ctx)
            body = expand(sandbox, copy.deepcopy(result), params.get("expand") or [], caller)
        if cache_key is not None:
            with sandbox.lock:
                sandbox.idempotency[cache_key] = (raw, 200, body)
            headers["Idempotency-Key"] = idempotency_key or ""
        return JSONResponse(body, headers=headers)
    except StripeError as exc:
        # Stripe saves no idempotent result when validation fails, so errors are never replayed.
        error_body = exc.body(request_id)
        return JSONResponse(error_body, status_code=exc.status, headers=headers)


# -- expand ----------------------------------------------------------------------------------------------------
Expander = Callable[[Sandbox, dict[str, Any]], Any]
EXPANDERS: dict[tuple[str, str], Expander] = {}


def expander(object_type: str, field: str) -> Callable[[Expander], Expander]:
    """Register how a computed field (e.g. a Checkout Session's ``line_items``) is expanded."""

    def register(func: Expander) -> Expander:
        EXPANDERS[(object_type, field)] = func
        return func

    return register


def expand(sandbox: Sandbox, obj: Any, paths: list[str], caller: Caller) -> Any:
    """Replace ids by objects along each ``expand`` path, as Stripe does (lists: ``data.field``)."""
    for path in paths:
        _expand_path(sandbox, obj, path.split("."), path)
    return obj


def _expand_path(sandbox: Sandbox, obj: Any, parts: list[str], full: str) -> None:
    if not isinstance(obj, dict) or not parts:
        return
    head, rest = parts[0], parts[1:]
    if obj.get("object") == "list" and head == "data":
        for item in obj["data"]:
            _expand_path(sandbox, item, rest, full)
        return
    special = EXPANDERS.get((str(obj.get("object")), head))
    if special is not None:
        obj[head] = special(sandbox, obj)
    elif head not in obj:
        raise StripeError(f"This property cannot be expanded ({full}).")
    else:
        value = obj[head]
        if isinstance(value, str):
            with sandbox.lock:
                stored = sandbox.objects.get(value)
                if stored is None and value in sandbox.accounts:
                    obj[head] = copy.deepcopy(sandbox.accounts[value])
                elif stored is None:
                    raise StripeError(f"This property cannot be expanded ({full}).")
                else:
                    obj[head] = copy.deepcopy(stored.obj)
        elif value is not None and not isinstance(value, dict):
            raise StripeError(f"This property cannot be expanded ({full}).")
    _expand_path(sandbox, obj.get(head), rest, full)


def unrecognized(request: Request) -> JSONResponse:
    """Stripe's answer to an unknown URL or method under ``/v1``."""
    error = StripeError(
        f"Unrecognized request URL ({request.method}: {request.url.path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        status=404,
    )
    return JSONResponse(error.body(), status_code=404)


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
