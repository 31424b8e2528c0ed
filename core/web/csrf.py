"""CSRF protection for everything a browser's cookie can authenticate.

Browsers attach the session cookie to any request, including ones a hostile page makes, so every
state-changing request that may ride on that cookie must also carry a per-session token the hostile
page cannot read: the ``csrf_token`` form field or the ``X-CSRF-Token`` header. Requests that bring
their own credential (``Authorization: Bearer``, ``X-API-Key``) are not ambient and are exempt, and
so are provider webhooks (``/webhooks/...``), which are verified by signature.

The token is random per session (``secrets``), kept in the app's own signed session cookie, compared in
constant time, and replaced at sign-in and sign-out.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.web.session import COOKIE, own_session
from core.web.session import SCOPE_KEY as SESSION_SCOPE_KEY

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
EXEMPT_PREFIXES = ("/webhooks/",)
OWN_CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")
SESSION_COOKIE = COOKIE

FAILED_MESSAGE = ("This request was refused because its security token is missing or out of date "
                  "(CSRF protection). Reload the page and try again; API clients send the token from "
                  "the page's <meta name=\"csrf-token\"> as the X-CSRF-Token header, or use a bearer token.")


def csrf_token(request: Request) -> str:
    """The session's token (created on first use); templates put it in every form."""
    session = own_session(request)
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def rotate(request: Request) -> str:
    """Replace the token (at sign-in and sign-out, so a token never outlives the identity it guarded)."""
    own_session(request).pop(SESSION_KEY, None)
    return csrf_token(request)


def token_matches(expected: object, presented: object) -> bool:
    return (isinstance(expected, str) and isinstance(presented, str) and bool(expected)
            and hmac.compare_digest(expected.encode(), presented.encode()))


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def needs_check(scope: Scope) -> bool:
    """Whether this request could be riding on the browser's cookie (and so needs the token)."""
    if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
        return False
    root, path = scope.get("root_path", ""), scope["path"]
    if root and path.startswith(root):
        path = path[len(root):]
    if path.startswith(EXEMPT_PREFIXES):
        return False
    headers = scope.get("headers", [])
    if any(_header(headers, name) for name in OWN_CREDENTIAL_HEADERS):
        return False
    cookie = (_header(headers, b"cookie") or b"").decode("latin-1")
    content_type = (_header(headers, b"content-type") or b"").decode("latin-1").lower()
    # A form post is always browser-made; a cookie-less one is never ours, so it needs a token too.
    return f"{SESSION_COOKIE}=" in cookie or content_type.startswith(FORM_TYPES)


class CsrfMiddleware:
    """Pure ASGI middleware (inside ``SessionMiddleware``) that refuses unsafe cookie requests without the token.

    A form body is read once, checked, and replayed to the app unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not needs_check(scope):
            await self.app(scope, receive, send)
            return
        expected = scope.get(SESSION_SCOPE_KEY, {}).get(SESSION_KEY)
        presented_header = _header(scope.get("headers", []), HEADER.encode())
        if presented_header is not None:
            ok = token_matches(expected, presented_header.decode("latin-1"))
            await (self.app(scope, receive, send) if ok else self._refuse(scope, receive, send))
            return
        body = await _read_body(receive)
        request = Request(scope, _replayer(body, receive))
        content_type = request.headers.get("content-type", "").lower()
        presented: object = None
        if content_type.startswith(FORM_TYPES):
            form = await request.form()
            presented = form.get(FORM_FIELD)
            await form.close()
        if token_matches(expected, presented):
            await self.app(scope, _replayer(body, receive), send)
        else:
            await self._refuse(scope, _replayer(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = _header(scope.get("headers", []), b"accept") or b""
        response: Response
        if b"text/html" in accept:
            from core.web.templating import render_error_page

            response = render_error_page(Request(scope, receive), status_code=403,
                                         title="This form has expired", message=FAILED_MESSAGE)
        else:
            response = JSONResponse({"error": {"code": "csrf_failed", "message": FAILED_MESSAGE}}, status_code=403)
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replayer(body: bytes, upstream: Receive) -> Receive:
    """Hand the buffered body out once, then defer to the server (which reports the disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await upstream()

    return receive
