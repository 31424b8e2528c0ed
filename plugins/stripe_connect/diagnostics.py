"""Non-secret facts for support (``connections status --json``): never a key, token or signing secret."""

from __future__ import annotations

from typing import Any

from core import Connection, IntegrationContext

from .client import STRIPE_API_VERSION
from .config import StripeConnectConfig
from .lifecycle import mode_name

SAFE_DATA_KEYS = ("account_id", "connect_method", "scope", "business_name", "charges_enabled", "payouts_enabled",
                  "details_submitted", "currently_due", "past_due", "disabled_reason")


def diagnostics(ctx: IntegrationContext, connection: Connection) -> dict[str, Any]:
    config: StripeConnectConfig = ctx.config
    return {
        "account_id": connection.external_id,
        "connection_mode": mode_name(connection.livemode) if connection.livemode is not None else None,
        "key_mode": mode_name(config.livemode),
        "api_version": STRIPE_API_VERSION,
        "api_base": config.api_base,
        "connect_base": config.connect_base,
        "webhook_signing_secrets": len(config.signing_secrets()),
        "application_fee_percent": config.application_fee_percent,
        "dashboard_url": config.dashboard_for(connection.external_id),
        **{key: connection.data[key] for key in SAFE_DATA_KEYS if key in connection.data},
    }
