"""``serve --sandbox``: run the Stripe sandbox on loopback and point the plugin at it."""

from __future__ import annotations

import secrets

from core import DevServer

from .info import NAME


def start_sandbox(base_url: str) -> DevServer:
    """Start a sandbox with fresh keys, a Connect webhook endpoint to this host, and our callback allowed."""
    from .sandbox import SandboxServer  # imported only in development

    base = base_url.rstrip("/")
    secret_key = f"sk_test_{secrets.token_hex(16)}"
    client_id = f"ca_{secrets.token_hex(12)}"
    webhook_secret = f"whsec_{secrets.token_hex(24)}"
    server = SandboxServer(
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
