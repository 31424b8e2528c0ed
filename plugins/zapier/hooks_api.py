"""Zapier's REST hooks: who am I, subscribe a target URL, list and unsubscribe (idempotent)."""

from __future__ import annotations

from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import Subscription
from plugins.zapier.auth import Caller
from plugins.zapier.routing import ZapierApi
from plugins.zapier.validation import json_object, structure


@attrs.frozen(kw_only=True)
class HookRequest:
    """The body of ``POST /api/zapier/hooks``: Zapier's ``targetUrl`` and the event it wants."""

    target_url: str
    event: str
    filters: dict[str, str | int | bool] = attrs.field(factory=dict)


def hook_json(sub: Subscription) -> dict[str, Any]:
    created = sub.created_at.isoformat().replace("+00:00", "Z") if sub.created_at else None
    return {"id": sub.id, "event": sub.event_type, "target_url": sub.target_url, "filters": dict(sub.filters),
            "created_at": created}


async def me(request: Request, caller: Caller, api: ZapierApi) -> Response:
    """Zapier's auth test: the site the key belongs to (its name becomes the connection label)."""
    return JSONResponse({"id": caller.tenant.id, "name": caller.tenant.name, "key_label": caller.key.label})


async def subscribe(request: Request, caller: Caller, api: ZapierApi) -> Response:
    """The new hook with its Standard Webhooks signing secret: shown here once (stored encrypted, never
    listed), so the target can verify ``webhook-signature`` on every delivery."""
    hook = structure(await json_object(request), HookRequest, what="subscription")
    sub, secret = await caller.ctx.run_in_threadpool(caller.ctx.subscriptions.subscribe, event_type=hook.event,
                                                     target_url=hook.target_url, filters=hook.filters)
    return JSONResponse({**hook_json(sub), "secret": secret}, status_code=201)


async def list_hooks(request: Request, caller: Caller, api: ZapierApi) -> Response:
    subs = await caller.ctx.run_in_threadpool(caller.ctx.subscriptions.list)
    return JSONResponse({"hooks": [hook_json(s) for s in subs]})


async def unsubscribe(request: Request, caller: Caller, api: ZapierApi) -> Response:
    """Idempotent: Zapier may unsubscribe twice, or after a 410 already removed the hook.

    Only this site's Zapier hooks can be removed; another site's id (or another integration's)
    answers exactly like an id that is already gone.
    """
    hook_id = request.path_params["hook_id"]
    removed = await caller.ctx.run_in_threadpool(caller.ctx.subscriptions.unsubscribe, hook_id)
    return JSONResponse({"id": hook_id, "deleted": removed})


def routes(api: ZapierApi) -> list[Route]:
    return [
        api.route("/api/zapier/me", me, methods=["GET"]),
        api.route("/api/zapier/hooks", subscribe, methods=["POST"]),
        api.route("/api/zapier/hooks", list_hooks, methods=["GET"]),
        api.route("/api/zapier/hooks/{hook_id}", unsubscribe, methods=["DELETE"]),
    ]
