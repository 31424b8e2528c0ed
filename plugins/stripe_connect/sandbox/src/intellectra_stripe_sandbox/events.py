"""Events: created for every change Stripe would announce, stored for ``GET /v1/events``, sent to webhooks.

An event for a connected account carries ``account`` and goes to Connect endpoints; a platform event goes to
the platform's own endpoints. ``data.object`` is a snapshot taken when the event is created.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from . import ids
from .api import Context, endpoint
from .errors import resource_missing
from .listing import CREATED, created_matches, paginate
from .objects import build
from .params import Arr, Bool, Int, Obj, Str
from .state import Sandbox, Stored

Origin = tuple[str | None, str | None]
NO_ORIGIN: Origin = (None, None)


def emit(
    sandbox: Sandbox,
    event_type: str,
    obj: dict[str, Any],
    *,
    account: str | None,
    livemode: bool,
    previous: dict[str, Any] | None = None,
    origin: Origin = NO_ORIGIN,
) -> dict[str, Any]:
    """Record an event and queue its delivery; ``origin`` is the API request (id, idempotency key) if any."""
    with sandbox.lock:
        endpoints = [e for e in sandbox.endpoints if e.connect == (account is not None)]
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = build(
            "event",
            id=ids.new_id("evt", 24),
            api_version=sandbox.api_version,
            created=sandbox.now(),
            data=data,
            livemode=livemode,
            pending_webhooks=len(endpoints),
            request={"id": origin[0], "idempotency_key": origin[1]},
            type=event_type,
        )
        if account is not None:
            event = {"id": event["id"], "object": "event", "account": account, **event}
        sandbox.events.append(Stored(kind="event", obj=event, account=account, livemode=livemode))
        body = json.dumps(event, indent=2)
    sandbox.sender.dispatch(event["id"], body, endpoints)
    return event


def emit_for(ctx: Context, event_type: str, obj: dict[str, Any], *,
             previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """``emit`` in the scope of the API request being served (its account, mode and request id)."""
    return emit(ctx.sandbox, event_type, obj, account=ctx.caller.account, livemode=ctx.caller.livemode,
                previous=previous, origin=ctx.origin)


def resend(sandbox: Sandbox, event_id: str, *, times: int = 1, concurrent: bool = False) -> None:
    """Deliver an existing event again to its endpoints (duplicate delivery, as Stripe may do)."""
    with sandbox.lock:
        stored = next((s for s in sandbox.events if s.obj["id"] == event_id), None)
        if stored is None:
            raise resource_missing("event", event_id)
        endpoints = [e for e in sandbox.endpoints if e.connect == (stored.account is not None)]
        body = json.dumps(stored.obj, indent=2)
    sandbox.sender.resend(event_id, body, endpoints, times, concurrent)


def diff(before: Any, after: Any) -> dict[str, Any]:
    """``previous_attributes``: the old values of what changed (hashes compared key by key)."""
    changed: dict[str, Any] = {}
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            changed[key] = diff(old, new)
        else:
            changed[key] = copy.deepcopy(old)
    return changed


LIST_SCHEMA = Obj(
    {
        "created": CREATED,
        "delivery_success": Bool(),
        "ending_before": Str(),
        "limit": Int(minimum=1, maximum=100),
        "starting_after": Str(),
        "type": Str(),
        "types": Arr(Str(), max_items=20),
    }
)


def _matches(event: dict[str, Any], params: dict[str, Any]) -> bool:
    if not created_matches(event, params):
        return False
    wanted = [params["type"]] if params.get("type") else list(params.get("types") or [])
    if wanted and not any(_type_match(event["type"], pattern) for pattern in wanted):
        return False
    if params.get("delivery_success") is not None:
        delivered = event["pending_webhooks"] == 0
        if delivered != params["delivery_success"]:
            return False
    return True


def _type_match(event_type: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


@endpoint(LIST_SCHEMA)
def list_events(ctx: Context) -> dict[str, Any]:
    """``GET /v1/events``: the caller's events (with ``Stripe-Account``: that account's), newest first."""
    caller = ctx.caller
    items = [
        s.obj
        for s in reversed(ctx.sandbox.events)
        if s.account == caller.account and s.livemode == caller.livemode and _matches(s.obj, ctx.params)
    ]
    return paginate(items, ctx.params, "/v1/events")


@endpoint(Obj({}))
def retrieve_event(ctx: Context) -> dict[str, Any]:
    event_id = ctx.path_params["id"]
    for stored in ctx.sandbox.events:
        if (
            stored.obj["id"] == event_id
            and stored.account == ctx.caller.account
            and stored.livemode == ctx.caller.livemode
        ):
            return stored.obj
    raise resource_missing("event", event_id)
