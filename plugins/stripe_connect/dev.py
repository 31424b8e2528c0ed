"""``serve --sandbox``: run the Stripe sandbox on loopback and point the plugin at it.

The sandbox is its own distribution (``intellectra-stripe-sandbox``), installed for development only,
so the production wheel carries none of it; without it ``serve --sandbox`` says how to install it.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from core import DevServer, PluginError

from .info import NAME

if TYPE_CHECKING:
    from intellectra_stripe_sandbox import SandboxServer

SANDBOX_DISTRIBUTION = "intellectra-stripe-sandbox"
INSTALL_HINT = (f"the Stripe sandbox (distribution {SANDBOX_DISTRIBUTION}, a development tool) is not installed; "
                "install it from this repository with `pip install -e ./plugins/stripe_connect/sandbox`")


def sandbox_server_class() -> type[SandboxServer]:
    """The sandbox's server class, or a one-line error naming the distribution to install."""
    try:
        from intellectra_stripe_sandbox import SandboxServer
    except ModuleNotFoundError as exc:
        if exc.name != "intellectra_stripe_sandbox":
            raise
        raise PluginError(INSTALL_HINT, code="sandbox_not_installed") from None
    return SandboxServer


def start_sandbox(base_url: str) -> DevServer:
    """Start a sandbox with fresh keys, a Connect webhook endpoint to this host, and our callback allowed."""
    server_class = sandbox_server_class()
    base = base_url.rstrip("/")
    secret_key = f"sk_test_{secrets.token_hex(16)}"
    client_id = f"ca_{secrets.token_hex(12)}"
    webhook_secret = f"whsec_{secrets.token_hex(24)}"
    server = server_class(
        secret_key=secret_key,
        client_id=client_id,
        redirect_uris=[f"{base}/integrations/{NAME}/callback"],
        webhook_endpoints=[(f"{base}/webhooks/{NAME}", webhook_secret)],
    ).start()
    return DevServer(
        name="Stripe sandbox",
        url=server.url,
        stop=server.stop,
        description="a stand-in for Stripe (accounts, OAuth, onboarding, checkout, signed webhooks)",
        config_overrides={
            "secret_key": secret_key,
            "client_id": client_id,
            "webhook_secrets": webhook_secret,
            "api_base": server.url,
            "connect_base": server.url,
            "dashboard_url": f"{server.url}/dashboard",
        },
        links={
            "Sandbox settings and test controls": f"{server.url}/_sandbox",
            "Webhook deliveries": f"{server.url}/_sandbox/webhook_attempts",
        },
    )
