"""``POST /webhooks/{name}``: hand the raw request to the pipeline's intake.

Two doors to the same intake: the route (what the router, OpenAPI and ``url_for`` know), and
:class:`WebhookFastPath`, the middleware every such POST actually takes, in front of the middlewares
only browsers need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.web.identity import host_of

if TYPE_CHECKING:
    from core.host import Host

PREFIX = "/webhooks/"


async def receive_webhook(request: Request) -> Response:
    host = host_of(request)
    body = await request.body()
    result = await host.pipeline.intake.receive(request.path_params["name"], body, request.headers)
    return JSONResponse(result.body, status_code=result.status_code, headers=result.headers)


def webhook_name(scope: Scope) -> str | None:
    """The ``{name}`` of a ``POST /webhooks/{name}`` (inside the app's mount point), else ``None``.

    Matches exactly what the route matches: one non-empty path segment after the prefix."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] == "/":
        path = path[len(root):]
    if not path.startswith(PREFIX):
        return None
    name = path[len(PREFIX):]
    return name if name and "/" not in name else None


class WebhookFastPath:
    """Pure ASGI middleware: a provider's webhook goes straight to intake; every other request to ``app``.

    Placed after the checks every request needs (trusted Host header, no NUL, the body cap) and before
    the ones a webhook does not: the app's session cookie (a provider sends none), the CSRF check
    (which exempts webhooks: they are verified by signature), the router and the exception layer
    (intake answers every refusal itself). Measured, that stack was a quarter of the event loop's CPU
    per webhook (bench/README.md).
    """

    def __init__(self, app: ASGIApp, *, host: Host) -> None:
        self.app = app
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = webhook_name(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender went away before its body arrived: nothing to store, nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        result = await self.host.pipeline.intake.receive(name, b"".join(chunks), Headers(scope=scope))
        response = JSONResponse(result.body, status_code=result.status_code, headers=result.headers)
        await response(scope, receive, send)
