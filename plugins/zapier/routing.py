"""The Zapier API's request pipeline: authenticate the key, apply its rate limit, run the handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import IntegrationContext
from plugins.zapier.auth import Caller, authenticate
from plugins.zapier.config import ZapierConfig

Handler = Callable[[Request, Caller, "ZapierApi"], Awaitable[Response]]


class ZapierApi:
    """What every Zapier endpoint shares: the plugin's context and config.

    Each key's request limit is the host's shared one (``ctx.rate_limits``), so it holds across
    every ``serve`` process, not per process.
    """

    def __init__(self, ctx: IntegrationContext) -> None:
        self.ctx = ctx
        self.config: ZapierConfig = ctx.config

    def route(self, path: str, handler: Handler, *, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            caller = await authenticate(request, self.ctx)
            wait = await self.ctx.run_in_threadpool(self.ctx.rate_limits.hit, caller.key.id,
                                                    per_minute=self.config.requests_per_minute)
            if wait:
                return self.too_many_requests(wait)
            return await handler(request, caller, self)

        return Route(path, endpoint, methods=methods)

    def too_many_requests(self, wait: int) -> JSONResponse:
        message = (f"Too many requests with this API key (the limit is {self.config.requests_per_minute} per "
                   f"minute). Zapier retries automatically; try again in {wait} seconds.")
        return JSONResponse({"error": {"code": "rate_limited", "message": message}}, status_code=429,
                            headers={"Retry-After": str(wait)})
