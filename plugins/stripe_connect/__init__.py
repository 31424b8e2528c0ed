"""Stripe Connect: creators connect their own Stripe account, sell offers through Checkout, and the
platform turns Stripe's webhooks into domain events.

The hooks here are thin: each delegates to the module that owns the job (``connect_flow``, ``lifecycle``,
``status``, ``webhooks``, ``handlers``, ``offers``, ``card``, ``sync``, ``dev``). See docs/plugins/stripe_connect.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from starlette.routing import BaseRoute

from core import (
    CardDetails,
    CardFormResult,
    Connected,
    Connection,
    ConnectionStatus,
    DevServer,
    InboundEvent,
    InboundRequest,
    IntegrationContext,
    IntegrationInfo,
    NewDomainEvent,
    Redirect,
    StoredEvent,
    Tenant,
    hookimpl,
)

from . import card, connect_flow, details, dev, handlers, info, lifecycle, sync, web, webhooks
from . import diagnostics as diagnostics_module
from .client import STRIPE_API_VERSION
from .config import StripeConnectConfig
from .offers import Offer, OfferRequest, application_fee, create_offer, start_checkout

__version__ = "0.1.0"

__all__ = [
    "STRIPE_API_VERSION",
    "Offer",
    "OfferRequest",
    "StripeConnectConfig",
    "application_fee",
    "create_offer",
    "start_checkout",
]


@hookimpl
def integration_info() -> IntegrationInfo:
    return info.integration_info()


@hookimpl
def connect(ctx: IntegrationContext, tenant: Tenant, form: Mapping[str, str], state: str) -> Redirect:
    return connect_flow.start(ctx, tenant, form, state)


@hookimpl
def complete_connect(ctx: IntegrationContext, params: Mapping[str, str], state_data: Mapping[str, Any],
                     state: str) -> Connected | Redirect:
    return connect_flow.complete(ctx, params, state_data, state)


@hookimpl
def disconnect(ctx: IntegrationContext, connection: Connection) -> None:
    lifecycle.disconnect(ctx, connection)


@hookimpl
def status(ctx: IntegrationContext, connection: Connection, refresh: bool) -> ConnectionStatus:
    if not refresh:
        return connection.status
    return lifecycle.refresh_status(ctx, connection)


@hookimpl
def verify_webhook(ctx: IntegrationContext, request: InboundRequest) -> Sequence[InboundEvent]:
    return webhooks.verify(ctx.config, request)


@hookimpl
def handle_event(ctx: IntegrationContext, event: StoredEvent) -> Sequence[NewDomainEvent]:
    return handlers.handle(ctx, event)


@hookimpl
def submit_card_form(ctx: IntegrationContext, form_name: str, values: Mapping[str, str]) -> CardFormResult:
    return card.submit(ctx, form_name, values)


@hookimpl
def card_details(ctx: IntegrationContext) -> CardDetails | None:
    return details.card_details(ctx)


@hookimpl
def web_routes(ctx: IntegrationContext) -> Sequence[BaseRoute]:
    return web.routes(ctx)


@hookimpl
def dev_servers(base_url: str) -> Sequence[DevServer]:
    return [dev.start_sandbox(base_url)]


@hookimpl
def cli_commands(cli: click.Group) -> None:
    sync.register(cli)


@hookimpl
def diagnostics(ctx: IntegrationContext, connection: Connection) -> Mapping[str, Any]:
    return diagnostics_module.diagnostics(ctx, connection)
