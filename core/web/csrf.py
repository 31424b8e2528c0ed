"""CSRF protection for everything a browser's cookie can authenticate.

Browsers attach cookies to any request, including ones a hostile page makes, and behind an auth proxy
they attach ``Authorization: Basic``/``Negotiate`` by themselves too. So the only request that skips
the check is one that brings a bearer token: identity then comes from that token alone and the
cookie is never consulted (``core.builtins.StandaloneIdentity``), and a page on another site cannot
set that header. Every other state-changing request that carries any cookie (ours, or a host app's
whose ``resolve_tenant`` reads its own session) or a form body needs both:

* the session's token, as the ``csrf_token`` form field or the ``X-CSRF-Token`` header; and
* an ``Origin`` (or, without one, a ``Referer``) on this host: the public URL's origin or the origin
  the request itself was made to (whose Host header ``TrustedHostMiddleware`` has already vetted).

Provider webhooks (``/webhooks/...``) are exempt: they carry no cookie and are verified by signature.

The token is random per session (``secrets``), kept in the app's own signed session cookie, compared in
constant time, and replaced at sign-in and sign-out.

Why not a library: ``asgi-csrf`` implements a double-submit cookie that is not tied to the signed
session (so it cannot be replaced at sign-in) and checks no ``Origin``; ``starlette-csrf`` reads the
token from a header only, which plain HTML forms cannot send. Both also skip the check on headers we
must not trust (any cookie-less request, or ``Authorization: Bearer`` without asking whether the
cookie is consulted). This module is the synchronizer-token pattern OWASP describes, plus the origin
check, in about a hundred lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.web.csrf_tokens import SESSION_KEY, token_matches
from core.web.session import SCOPE_KEY as SESSION_SCOPE_KEY
from core.web.templating import render_error_page

FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
EXEMPT_PREFIXES = ("/webhooks/",)

FAILED_MESSAGE = ("This request was refused because its security token is missing or out of date "
                  "(CSRF protection). Reload the page and try again; API clients send the token from "
                  "the page's <meta name=\"csrf-token\"> as the X-CSRF-Token header, or use a bearer token.")
ORIGIN_MESSAGE = ("This request was refused because it did not come from a page of this site (its Origin or "
                  "Referer header names another site, or neither was sent; CSRF protection). Open the "
                  "settings page on this site and try again, or call the API with a bearer token.")


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None for any other scheme or an empty token."""
    scheme, _, token = (_header(headers, b"authorization") or b"").decode("latin-1").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def needs_check(scope: Scope) -> bool:
    """Whether this request could be riding on a cookie (and so needs the token and the origin check)."""
    if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
        return False
    root, path = scope.get("root_path", ""), scope["path"]
    if root and path.startswith(root):
        path = path[len(root):]
    if path.startswith(EXEMPT_PREFIXES):
        return False
    headers = scope.get("headers", [])
    if bearer_token(headers):
        return False  # identity comes from the token alone; no cookie is consulted
    content_type = (_header(headers, b"content-type") or b"").decode("latin-1").lower()
    # A form post is always browser-made; a cookie-less one is never ours, so it needs a token too.
    return bool(_header(headers, b"cookie")) or content_type.startswith(FORM_TYPES)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(scope: Scope, public_url: str | None) -> bool:
    """The request's ``Origin`` (else its ``Referer``) is the public URL's origin or the request's own."""
    headers = scope.get("headers", [])
    presented = _header(headers, b"origin") or _header(headers, b"referer")
    origin = origin_of(presented.decode("latin-1")) if presented else None
    if origin is None:
        return False
    own_host = (_header(headers, b"host") or b"").decode("latin-1")
    allowed = {f"{scope.get('scheme', 'http')}://{own_host}".lower()} if own_host else set()
    if public_url and (public := origin_of(public_url)):
        allowed.add(public)
    return origin in allowed


class CsrfMiddleware:
    """Pure ASGI middleware (inside the web app's own session middleware) that refuses unsafe cookie
    requests without the token or from another origin. A form body is read once, checked, and replayed
    to the app unchanged.
    """

    def __init__(self, app: ASGIApp, *, public_url: str | None = None) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not needs_check(scope):
            await self.app(scope, receive, send)
            return
        if not same_origin(scope, self.public_url):
            await self._refuse(scope, receive, send, ORIGIN_MESSAGE)
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

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, message: str = FAILED_MESSAGE) -> None:
        accept = _header(scope.get("headers", []), b"accept") or b""
        response: Response
        if b"text/html" in accept:
            response = render_error_page(Request(scope, receive), status_code=403,
                                         title="This form has expired", message=message)
        else:
            response = JSONResponse({"error": {"code": "csrf_failed", "message": message}}, status_code=403)
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
