"""The web app's own signed session cookie, kept out of ``scope["session"]``.

Why not Starlette's ``SessionMiddleware``: it keeps its data in ``scope["session"]``, and so does the
host app's own ``SessionMiddleware`` when it mounts this app under its prefix. ASGI sub-apps share
the request's scope, so ours would replace the host app's session for the whole request: the host
app's ``resolve_tenant`` would read *our* session instead of its own, and the host app's middleware
would then write our data into its cookie on the way out (signing its creator out). So this app's
session lives at ``scope["intellectra.session"]`` (read it with :func:`own_session`), and
``request.session`` stays the host app's.

The cookie is what Starlette's would be (JSON, base64, signed and timestamped by ``itsdangerous``,
``HttpOnly``, ``SameSite=Lax``), scoped to the path the app is mounted at.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from typing import Any

import itsdangerous
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.builtins import PAGE_SESSION_SCOPE_KEY

SCOPE_KEY = PAGE_SESSION_SCOPE_KEY
COOKIE = "intellectra_session"
MAX_AGE = 14 * 24 * 60 * 60


def own_session(connection: HTTPConnection) -> dict[str, Any]:
    """This app's session (sign-in, CSRF token, flash messages); never the host app's."""
    session = connection.scope.get(SCOPE_KEY)
    assert isinstance(session, dict), "OwnSessionMiddleware must run before anything reads the session"
    return session


def _snapshot(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True)


class OwnSessionMiddleware:
    def __init__(self, app: ASGIApp, *, secret_key: str, https_only: bool = False, max_age: int = MAX_AGE) -> None:
        self.app = app
        self.signer = itsdangerous.TimestampSigner(secret_key)
        self.max_age = max_age
        self.flags = "httponly; samesite=lax" + ("; secure" if https_only else "")

    def _load(self, scope: Scope) -> dict[str, Any] | None:
        raw = HTTPConnection(scope).cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = json.loads(b64decode(self.signer.unsign(raw.encode(), max_age=self.max_age)))
        except (itsdangerous.BadSignature, ValueError):
            return None  # forged, expired or from another key: start afresh
        return data if isinstance(data, dict) else None

    def _cookie(self, value: str, path: str, *, expire: bool = False) -> str:
        lifetime = "expires=Thu, 01 Jan 1970 00:00:00 GMT" if expire else f"Max-Age={self.max_age}"
        return f"{COOKIE}={value}; path={path}; {lifetime}; {self.flags}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        loaded = self._load(scope)
        session: dict[str, Any] = dict(loaded or {})
        before = _snapshot(session)
        scope[SCOPE_KEY] = session
        path = str(scope.get("root_path") or "").rstrip("/") or "/"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and _snapshot(session) != before:
                headers = MutableHeaders(scope=message)
                if session:
                    signed = self.signer.sign(b64encode(json.dumps(session).encode())).decode()
                    headers.append("Set-Cookie", self._cookie(signed, path))
                elif loaded is not None:
                    headers.append("Set-Cookie", self._cookie("null", path, expire=True))
            await send(message)

        await self.app(scope, receive, send_with_cookie)
