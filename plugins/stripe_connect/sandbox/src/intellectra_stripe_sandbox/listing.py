"""What every ``GET /v1/<objects>`` list shares: the ``created`` filter and cursor pagination.

Stripe lists newest first; ``limit`` (1-100, default 10) with ``starting_after`` / ``ending_before``
(an object id of the previous page) walks the list, and ``has_more`` says whether it goes on.
"""

from __future__ import annotations

import operator
from typing import Any

from .errors import StripeError, resource_missing
from .params import Int, Obj, Str
from .state import Sandbox

_RANGE = Obj({"gt": Int(), "gte": Int(), "lt": Int(), "lte": Int()})


class _IntOrRange(Int):
    """``created=1700000000`` or ``created[gte]=…&created[lt]=…``."""

    def convert(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return _RANGE.convert(value, path)
        return {"eq": super().convert(value, path)}


CREATED = _IntOrRange()
PAGE = {"ending_before": Str(), "limit": Int(minimum=1, maximum=100), "starting_after": Str()}
"""The cursor parameters every list endpoint accepts."""

_COMPARE = {"eq": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def created_matches(obj: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether ``obj["created"]`` passes the request's ``created`` filter (if any)."""
    created = params.get("created") or {}
    return all(bound is None or _COMPARE[op](obj["created"], bound) for op, bound in created.items())


def scoped(sandbox: Sandbox, kind: str, account: str | None, livemode: bool) -> list[dict[str, Any]]:
    """The caller's objects of ``kind`` (its account and mode), newest first (later stored first on ties)."""
    with sandbox.lock:
        found = [s.obj for s in sandbox.objects.values()
                 if s.kind == kind and s.account == account and s.livemode == livemode]
    found.reverse()
    found.sort(key=lambda obj: obj["created"], reverse=True)  # stable: ties keep newest-stored first
    return found


def paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str,
             object_name: str = "event") -> dict[str, Any]:
    """Stripe's list shape over newest-first ``items``; a cursor not among them is "No such <object_name>"."""
    limit = params.get("limit") or 10
    if params.get("starting_after") and params.get("ending_before"):
        raise StripeError("You may only specify one of these parameters: starting_after, ending_before.")
    index = {item["id"]: i for i, item in enumerate(items)}
    if params.get("starting_after"):
        cursor = params["starting_after"]
        if cursor not in index:
            raise resource_missing(object_name, cursor, "starting_after")
        window = items[index[cursor] + 1 :]
        page = window[:limit]
        has_more = len(window) > limit
    elif params.get("ending_before"):
        cursor = params["ending_before"]
        if cursor not in index:
            raise resource_missing(object_name, cursor, "ending_before")
        window = items[: index[cursor]]
        page = window[-limit:]
        has_more = len(window) > limit
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}
