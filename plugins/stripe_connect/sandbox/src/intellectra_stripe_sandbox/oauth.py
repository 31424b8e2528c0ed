"""Connect OAuth for Standard accounts (``connect.stripe.com``): authorize page, token, deauthorize.

The authorize page lets a person sign in to an existing sandbox account by email (or register one), pick the
account and press Connect or Deny; the redirect carries ``code``/``scope``/``state`` or ``error=access_denied``.
Token and deauthorize answer with OAuth's error shape (``{"error": "invalid_grant", ...}``), not the API one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from . import ids
from .access import application, deauthorize
from .accounts import new_account
from .api import read_api_key, sandbox_of
from .errors import OAuthError, mask_key
from .events import emit
from .forms import FormError, parse_query
from .pages import error_page, form_data, render
from .state import AuthorizeRequest, OAuthCode, Sandbox, Token

CODE_TTL = 300
AUTHORIZE_PARAMS = {
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "stripe_landing",
    "always_prompt",
    "stripe_user",
    "suggested_capabilities",
}
TOKEN_PARAMS = {
    "grant_type",
    "code",
    "refresh_token",
    "scope",
    "client_secret",
    "assert_capabilities",
    "expand",
}
DEAUTHORIZE_PARAMS = {"client_id", "stripe_user_id", "client_secret"}


def with_query(url: str, values: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return url + ("&" if "?" in url else "?") + query


# -- authorize page ----------------------------------------------------------------------------------------------
async def authorize(request: Request) -> Response:
    """``GET /oauth/authorize``: validate the client and redirect URI (error page if bad), then sign in."""
    sandbox = sandbox_of(request)
    try:
        params = parse_query(request.url.query)
    except FormError as exc:
        return error_page(request, str(exc))
    client_id = params.get("client_id")
    if client_id != sandbox.client_id:
        return error_page(request, f"Invalid client_id: {client_id or '(none)'}. No application matches it.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        if not sandbox.redirect_uris:
            return error_page(request, "No redirect URI is registered for this application.")
        redirect_uri = sandbox.redirect_uris[0]
    elif redirect_uri not in sandbox.redirect_uris:
        return error_page(
            request,
            f"Invalid redirect URI '{redirect_uri}'. Ensure this uri exactly matches one of the uris specified "
            "in your application settings.",
        )
    state = params.get("state")
    unknown = sorted(set(params) - AUTHORIZE_PARAMS)
    if unknown:
        return _redirect_error(redirect_uri, "invalid_request", f"Invalid parameter: {unknown[0]}", state)
    if params.get("response_type", "code") != "code":
        return _redirect_error(
            redirect_uri,
            "unsupported_response_type",
            f"Invalid response_type: {params['response_type']}. Only 'code' is supported.",
            state,
        )
    scope = params.get("scope") or "read_only"
    if scope not in ("read_only", "read_write"):
        return _redirect_error(redirect_uri, "invalid_scope", f"Invalid scope: {scope}", state)
    stripe_user = params.get("stripe_user")
    prefill: dict[str, Any] = stripe_user if isinstance(stripe_user, dict) else {}
    authorize_request = AuthorizeRequest(
        id=ids.random_part(24),
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        stripe_landing=params.get("stripe_landing") or "login",
        prefill=prefill,
        created=sandbox.now(),
    )
    with sandbox.lock:
        sandbox.authorize_requests[authorize_request.id] = authorize_request
    return _authorize_page(request, sandbox, authorize_request)


def _redirect_error(redirect_uri: str, error: str, description: str, state: str | None) -> Response:
    return RedirectResponse(
        with_query(redirect_uri, {"error": error, "error_description": description, "state": state}),
        status_code=302,
    )


def _authorize_page(
    request: Request, sandbox: Sandbox, areq: AuthorizeRequest, *, error: str | None = None, status: int = 200
) -> Response:
    with sandbox.lock:
        choices = [a for a in sandbox.accounts.values() if a["email"] == areq.email] if areq.email is not None else []
    return render(
        request,
        "authorize.html",
        status=status,
        areq=areq,
        platform_name=sandbox.platform_name,
        accounts=choices,
        error=error,
        prefill=areq.prefill,
    )


def _pending_request(request: Request, sandbox: Sandbox) -> AuthorizeRequest | None:
    with sandbox.lock:
        areq = sandbox.authorize_requests.get(request.path_params["request_id"])
    if areq is None or sandbox.now() - areq.created > 3600:
        return None
    return areq


async def _pending_step(request: Request) -> tuple[Sandbox, AuthorizeRequest, dict[str, str]] | Response:
    """What a step of the authorize page posts to: the sandbox, its pending request and the form; an
    expired or unknown request gets a page saying so."""
    sandbox = sandbox_of(request)
    areq = _pending_request(request, sandbox)
    if areq is None:
        return error_page(request, "This authorization request has expired. Start again from the platform.")
    return sandbox, areq, await form_data(request)


async def sign_in(request: Request) -> Response:
    """``POST /oauth/authorize/{request_id}/signin``: find the sandbox accounts registered with an email."""
    step = await _pending_step(request)
    if isinstance(step, Response):
        return step
    sandbox, areq, form = step
    email = (form.get("email") or "").strip().lower()
    with sandbox.lock:
        found = any((a["email"] or "").lower() == email for a in sandbox.accounts.values())
    if not found:
        return _authorize_page(
            request,
            sandbox,
            areq,
            status=400,
            error=f"No sandbox account uses the email {email or '(empty)'}. Register a new account instead.",
        )
    areq.email = next(a["email"] for a in sandbox.accounts.values() if (a["email"] or "").lower() == email)
    return _authorize_page(request, sandbox, areq)


async def register(request: Request) -> Response:
    """``POST /oauth/authorize/{request_id}/register``: create a Standard account and offer it to connect."""
    step = await _pending_step(request)
    if isinstance(step, Response):
        return step
    sandbox, areq, form = step
    email = (form.get("email") or "").strip()
    if "@" not in email:
        return _authorize_page(request, sandbox, areq, status=400, error="Enter a valid email address.")
    new_account(
        sandbox,
        livemode=False,
        email=email,
        country=(form.get("country") or "US").upper(),
        business_name=(form.get("business_name") or "").strip() or None,
        verified=form.get("status", "verified") == "verified",
    )
    areq.email = email
    return _authorize_page(request, sandbox, areq)


async def decide(request: Request) -> Response:
    """``POST /oauth/authorize/{request_id}/decide``: Connect → ``?code=…``; Deny → ``?error=access_denied``."""
    step = await _pending_step(request)
    if isinstance(step, Response):
        return step
    sandbox, areq, form = step
    if form.get("decision") == "deny":
        with sandbox.lock:
            sandbox.authorize_requests.pop(areq.id, None)
        return _redirect_error(areq.redirect_uri, "access_denied", "The user denied your request", areq.state)
    account_id = form.get("account")
    with sandbox.lock:
        account = sandbox.accounts.get(account_id or "")
        if account is None or account["email"] != areq.email:
            return _authorize_page(request, sandbox, areq, status=400, error="Choose an account to connect.")
        code = OAuthCode(
            code="ac_" + ids.random_part(32), account=account["id"], scope=areq.scope, created=sandbox.now()
        )
        sandbox.codes[code.code] = code
        sandbox.authorize_requests.pop(areq.id, None)
    return RedirectResponse(
        with_query(areq.redirect_uri, {"code": code.code, "scope": areq.scope, "state": areq.state}),
        status_code=302,
    )


# -- token and deauthorize ---------------------------------------------------------------------------------------
async def _oauth_params(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        params = parse_query(request.url.query)
        params.update(parse_query(await request.body()))
    except FormError as exc:
        raise OAuthError("invalid_request", str(exc)) from exc
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise OAuthError("invalid_request", f"Received unknown parameter: {unknown[0]}")
    return params


def _platform_mode(request: Request, sandbox: Sandbox, params: dict[str, Any]) -> bool:
    """The mode of the platform secret key (header or ``client_secret``); OAuth error if it is not ours."""
    key = read_api_key(request) or params.get("client_secret")
    if not key:
        raise OAuthError(
            "invalid_request",
            "No API key provided. Set your secret key as the Authorization header (Bearer auth) or the "
            "client_secret parameter.",
            status=401,
        )
    mode = sandbox.key_mode(key)
    if mode is None:
        raise OAuthError("invalid_client", f"Invalid API Key provided: {mask_key(key)}", status=401)
    return mode


def _issue(sandbox: Sandbox, account: str, livemode: bool, scope: str, kind: str) -> Token:
    prefix = {"access": "sk_live_" if livemode else "sk_test_", "refresh": "rt_"}[kind]
    token = Token(token=prefix + ids.random_part(60), kind=kind, account=account, livemode=livemode, scope=scope)
    sandbox.tokens[token.token] = token
    return token


def _token_response(sandbox: Sandbox, access: Token, refresh: Token) -> JSONResponse:
    return JSONResponse(
        {
            "access_token": access.token,
            "livemode": access.livemode,
            "refresh_token": refresh.token,
            "token_type": "bearer",
            "stripe_publishable_key": sandbox.publishable_key(access.livemode),
            "stripe_user_id": access.account,
            "scope": access.scope,
        }
    )


async def token(request: Request) -> Response:
    """``POST /oauth/token``: exchange a single-use, 5-minute code (or a refresh token) for tokens."""
    sandbox = sandbox_of(request)
    try:
        params = await _oauth_params(request, TOKEN_PARAMS)
        livemode = _platform_mode(request, sandbox, params)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "No grant type specified")
        with sandbox.lock:
            if grant_type == "authorization_code":
                return _exchange_code(sandbox, params, livemode)
            if grant_type == "refresh_token":
                return _refresh(sandbox, params, livemode)
        raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant_type}")
    except OAuthError as exc:
        return exc.response()


def _exchange_code(sandbox: Sandbox, params: dict[str, Any], livemode: bool) -> Response:
    code_value = params.get("code")
    if not code_value:
        raise OAuthError("invalid_request", "No authorization code provided")
    code = sandbox.codes.get(code_value)
    if code is None:
        raise OAuthError("invalid_grant", f"Authorization code does not exist: {code_value}")
    if code.used:
        for value in code.tokens:
            sandbox.tokens[value].revoked = True
        raise OAuthError(
            "invalid_grant",
            "This authorization code has already been used. All tokens issued with this code have been revoked.",
        )
    if sandbox.now() - code.created >= CODE_TTL:
        raise OAuthError("invalid_grant", f"Authorization code expired: {code_value}")
    code.used = True
    scope = params.get("scope") or code.scope
    access = _issue(sandbox, code.account, livemode, scope, "access")
    refresh = _issue(sandbox, code.account, livemode, scope, "refresh")
    code.tokens += [access.token, refresh.token]
    sandbox.connect(code.account, livemode, scope=scope, source="oauth")
    sandbox.account_modes.setdefault(code.account, livemode)
    emit(
        sandbox,
        "account.application.authorized",
        application(sandbox),
        account=code.account,
        livemode=livemode,
    )
    return _token_response(sandbox, access, refresh)


def _refresh(sandbox: Sandbox, params: dict[str, Any], livemode: bool) -> Response:
    value = params.get("refresh_token")
    if not value:
        raise OAuthError("invalid_request", "No refresh token provided")
    refresh = sandbox.tokens.get(value)
    if refresh is None or refresh.kind != "refresh" or refresh.revoked or refresh.livemode != livemode:
        raise OAuthError("invalid_grant", f"Invalid refresh token: {value}")
    scope = params.get("scope") or refresh.scope
    if scope not in ("read_only", "read_write") or (refresh.scope == "read_only" and scope == "read_write"):
        raise OAuthError("invalid_scope", f"Invalid scope: {scope}")
    access = _issue(sandbox, refresh.account, livemode, scope, "access")
    return _token_response(sandbox, access, refresh)


async def deauthorize_endpoint(request: Request) -> Response:
    """``POST /oauth/deauthorize``: disconnect an account; emits ``account.application.deauthorized``."""
    sandbox = sandbox_of(request)
    try:
        params = await _oauth_params(request, DEAUTHORIZE_PARAMS)
        _platform_mode(request, sandbox, params)
        client_id = params.get("client_id")
        if not client_id:
            raise OAuthError("invalid_request", "No client_id provided")
        if client_id != sandbox.client_id:
            raise OAuthError("invalid_client", f"No such application: '{client_id}'", status=401)
        account_id = params.get("stripe_user_id")
        if not account_id:
            raise OAuthError("invalid_request", "No stripe_user_id provided")
        if not deauthorize(sandbox, account_id):
            raise OAuthError(
                "invalid_client",
                f"This application is not connected to stripe account {account_id}, or that account does not exist.",
                status=401,
            )
        return JSONResponse({"stripe_user_id": account_id})
    except OAuthError as exc:
        return exc.response()
