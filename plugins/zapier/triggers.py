"""Trigger samples: what Zapier shows when a creator tests a trigger in the Zap editor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import NotFound
from plugins.zapier.auth import Caller
from plugins.zapier.routing import ZapierApi


async def trigger_list(request: Request, caller: Caller, api: ZapierApi) -> Response:
    """The deployment's triggers, one per type in its event catalogue (core's and its plugins'), each
    exactly as ``app/catalog.json`` defines it: an app built for this deployment has the same list."""
    from plugins.zapier import catalog  # imported here: `python -m plugins.zapier.catalog` must run it first

    return JSONResponse({"triggers": catalog.build(api.ctx.event_types)["triggers"]})


async def sample(request: Request, caller: Caller, api: ZapierApi) -> Response:
    """Up to ``sample_size`` recent real payloads, newest first, in exactly the delivered shape.

    Query parameters are the Zap's trigger filters (``?offer_id=price_123``), so the sample shows
    what that Zap would receive. A site with no such event yet gets the event's stable catalogue
    example (same shape, carrying the filter values), so the Zap editor always has fields to map.
    """
    event = request.path_params["event"]
    catalogue = api.ctx.event_types
    if event not in catalogue:
        raise NotFound(f"There is no trigger for {event!r}; triggers exist for {', '.join(sorted(catalogue))}.",
                       code="event_type_unknown")
    samples = caller.ctx.domain_events
    filters = caller.ctx.subscriptions.check_filters(event, {k: v for k, v in request.query_params.items() if v})
    items = await caller.ctx.run_in_threadpool(samples.recent, event, limit=api.config.sample_size, filters=filters)
    if not items:
        example = samples.example(event)
        data = example["data"]  # a filter value stands in only where the example has text (query values are text)
        data.update({k: v for k, v in filters.items() if isinstance(data.get(k), str | None)})
        items = [example]
    return JSONResponse(items)


def routes(api: ZapierApi) -> list[Route]:
    return [api.route("/api/zapier/triggers", trigger_list, methods=["GET"]),
            api.route("/api/zapier/triggers/{event}/sample", sample, methods=["GET"])]
