"""Zapier: API keys, REST hooks for every domain event, trigger samples and actions.

The hooks here are thin; each module does one job (see docs/plugins/zapier.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import Connected, ConnectionStatus, Host, IntegrationContext, IntegrationInfo, Tenant, hookimpl
from plugins.zapier import actions, connect_flow, hooks_api, keys_api, triggers
from plugins.zapier import info as _info
from plugins.zapier.info import NAME
from plugins.zapier.routing import ZapierApi

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

__version__ = "1.0.0"


@hookimpl
def integration_info() -> IntegrationInfo:
    return _info.integration_info()


@hookimpl
def connect(ctx: IntegrationContext, tenant: Tenant) -> Connected:
    return connect_flow.connect(ctx, tenant)


@hookimpl
def status(ctx: IntegrationContext, tenant: Tenant) -> ConnectionStatus:
    return connect_flow.status(ctx, tenant)


@hookimpl
def disconnect(ctx: IntegrationContext, tenant: Tenant) -> None:
    connect_flow.disconnect(ctx, tenant)


@hookimpl
def diagnostics(ctx: IntegrationContext, tenant: Tenant) -> Mapping[str, Any]:
    return connect_flow.diagnostics(ctx, tenant)


@hookimpl
def web_routes(host: Host) -> list[BaseRoute]:
    api = ZapierApi(host, host.plugins.get(NAME).config)
    return [*keys_api.routes(host), *hooks_api.routes(api), *triggers.routes(api), *actions.routes(api)]


@hookimpl
def cli_commands(cli: click.Group) -> None:
    from plugins.zapier.cli import add_commands

    add_commands(cli)
