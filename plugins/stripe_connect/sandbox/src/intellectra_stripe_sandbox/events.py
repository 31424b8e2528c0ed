"""Events: created for every change Stripe would announce, stored for ``GET /v1/events``, sent to webhooks.

An event for a connected account carries ``account`` and goes to Connect endpoints; a platform event goes to
the platform's own endpoints. ``data.object`` is a snapshot taken when the event is created.
"""

from __future__ import annotations

import copy
import json
import operator
from typing import Any

from . import ids
from .api import Context, endpoint
from .errors import StripeError, resource_missing
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


_RANGE = Obj({"gt": Int(), "gte": Int(), "lt": Int(), "lte": Int()})


class _IntOrRange(Int):
    def convert(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return _RANGE.convert(value, path)
        return {"eq": super().convert(value, path)}


LIST_SCHEMA = Obj(
    {
        "created": _IntOrRange(),
        "delivery_success": Bool(),
        "ending_before": Str(),
        "limit": Int(minimum=1, maximum=100),
        "starting_after": Str(),
        "type": Str(),
        "types": Arr(Str(), max_items=20),
    }
)


_COMPARE = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _matches(event: dict[str, Any], params: dict[str, Any]) -> bool:
    created = params.get("created") or {}
    for op, bound in created.items():
        if bound is not None and not _COMPARE[op](event["created"], bound):
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


def paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """Stripe's list shape over newest-first ``items`` with ``limit``/``starting_after``/``ending_before``."""
    limit = params.get("limit") or 10
    if params.get("starting_after") and params.get("ending_before"):
        raise StripeError("You may only specify one of these parameters: starting_after, ending_before.")
    index = {item["id"]: i for i, item in enumerate(items)}
    if params.get("starting_after"):
        cursor = params["starting_after"]
        if cursor not in index:
            raise resource_missing("event", cursor, "starting_after")
        window = items[index[cursor] + 1 :]
        page = window[:limit]
        has_more = len(window) > limit
    elif params.get("ending_before"):
        cursor = params["ending_before"]
        if cursor not in index:
            raise resource_missing("event", cursor, "ending_before")
        window = items[: index[cursor]]
        page = window[-limit:]
        has_more = len(window) > limit
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


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
