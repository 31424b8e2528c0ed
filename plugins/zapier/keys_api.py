"""The creator's API for Zapier keys (tenant identity: bearer token or the host app's session).

``POST`` is the only place a key's plaintext is ever returned, once.
"""

from __future__ import annotations

from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import ApiKey, IntegrationContext
from plugins.zapier.connect_flow import create_key, revoke_key
from plugins.zapier.validation import json_object, structure


@attrs.frozen(kw_only=True)
class NewKey:
    label: str = ""


def key_json(key: ApiKey) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {"id": key.id, "label": key.label, "prefix": key.prefix, "created_at": when(key.created_at),
            "last_used_at": when(key.last_used_at), "revoked_at": when(key.revoked_at)}


def actor_of(site: IntegrationContext) -> str:
    """Who did it, for the audit log: the site the request acted for."""
    return f"tenant:{site.tenant.id}" if site.tenant else "tenant"


def routes(ctx: IntegrationContext) -> list[Route]:
    async def list_keys(request: Request) -> Response:
        site = await ctx.for_request(request)
        keys = await site.run_in_threadpool(site.api_keys.list)
        return JSONResponse({"keys": [key_json(k) for k in keys]})

    async def new_key(request: Request) -> Response:
        site = await ctx.for_request(request)
        body = structure(await json_object(request), NewKey, what="API key")
        key, plaintext = await site.run_in_threadpool(create_key, site, label=body.label, actor=actor_of(site))
        return JSONResponse({"key": key_json(key), "api_key": plaintext,
                             "message": "Copy this key now and paste it into Zapier: it is not shown again."},
                            status_code=201, headers={"Cache-Control": "no-store"})

    async def revoke(request: Request) -> Response:
        site = await ctx.for_request(request)
        key = await site.run_in_threadpool(revoke_key, site, request.path_params["key_id"], actor=actor_of(site))
        return JSONResponse({"key": key_json(key)})

    return [
        Route("/api/zapier/keys", list_keys, methods=["GET"]),
        Route("/api/zapier/keys", new_key, methods=["POST"]),
        Route("/api/zapier/keys/{key_id}", revoke, methods=["DELETE"]),
    ]
