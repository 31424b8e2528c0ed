"""Zapier: API keys, REST hooks for every domain event, trigger samples and actions.

The hooks here are thin; each module does one job (see docs/plugins/zapier.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import CardDetails, Connected, ConnectionStatus, IntegrationContext, IntegrationInfo, hookimpl
from plugins.zapier import actions, card, connect_flow, hooks_api, keys_api, triggers
from plugins.zapier import info as _info
from plugins.zapier.routing import ZapierApi

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

__version__ = "2.0.0"


@hookimpl
def integration_info() -> IntegrationInfo:
    return _info.integration_info()


@hookimpl
def connect(ctx: IntegrationContext) -> Connected:
    return connect_flow.connect(ctx)


@hookimpl
def status(ctx: IntegrationContext) -> ConnectionStatus:
    return connect_flow.status(ctx)


@hookimpl
def disconnect(ctx: IntegrationContext) -> None:
    connect_flow.disconnect(ctx)


@hookimpl
def diagnostics(ctx: IntegrationContext) -> Mapping[str, Any]:
    return connect_flow.diagnostics(ctx)


@hookimpl
def card_details(ctx: IntegrationContext) -> CardDetails:
    return card.card_details(ctx)


@hookimpl
def web_routes(ctx: IntegrationContext) -> list[BaseRoute]:
    api = ZapierApi(ctx)
    return [*keys_api.routes(ctx), *hooks_api.routes(api), *triggers.routes(api), *actions.routes(api)]


@hookimpl
def cli_commands(cli: click.Group) -> None:
    from plugins.zapier.cli import add_commands

    add_commands(cli)
