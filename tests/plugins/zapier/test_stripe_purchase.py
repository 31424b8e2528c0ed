"""End to end across integrations: a purchase in the Stripe sandbox reaches a Zap as purchase.completed."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "stripe_connect"))  # the Stripe plugin's test kit

import stripe_kit
from zapier_kit import Receiver

import plugins.stripe_connect
import plugins.zapier
from core.testing import Recorder, free_port
from core.web.app import create_app
from plugins.zapier.connect_flow import create_key

stripe_sandbox_factory = stripe_kit.stripe_sandbox_factory


async def test_a_sandbox_purchase_is_delivered_to_the_subscribed_zap(make_host, live_server, stripe_sandbox_factory):
    port = free_port()
    host_url = f"http://127.0.0.1:{port}"
    sandbox = stripe_sandbox_factory(
        redirect_uris=[f"{host_url}/integrations/{stripe_kit.NAME}/callback"],
        webhook_endpoints=[(f"{host_url}/webhooks/{stripe_kit.NAME}", stripe_kit.WEBHOOK_SECRET)])
    host = make_host(plugins={stripe_kit.NAME: plugins.stripe_connect, "zapier": plugins.zapier},
                     config={stripe_kit.NAME: stripe_kit.plugin_config(sandbox.url)},
                     settings={"public_url": host_url})
    live_server(create_app(host), port=port)
    world = stripe_kit.StripeWorld(host, host_url, sandbox)
    receiver = Receiver()
    target = live_server(receiver.app()) + "/hooks/sales"
    try:
        site, account_id = world.connected_site()
        _, api_key = create_key(host.context("zapier").for_tenant(site.tenant), actor="test")
        with httpx.Client(base_url=host_url, headers={"X-API-Key": api_key}) as zapier:
            assert zapier.post("/api/zapier/hooks", json={"target_url": target, "event": "purchase.completed"}
                               ).status_code == 201
            offer = site.create_offer().json()["offer"]
            world.buy(offer["checkout_url"], email="grace@example.com")
            world.wait_for_stored("checkout.session.completed", account_id)
            await host.pipeline.run_once()

            assert len(receiver.received) == 1, Recorder(host).deliveries()
            ((_, body),) = receiver.received
            assert body["type"] == "purchase.completed"
            assert body["data"]["offer_id"] == offer["id"] and body["data"]["buyer_email"] == "grace@example.com"
            assert body in zapier.get("/api/zapier/triggers/purchase.completed/sample").json()
    finally:
        world.close()
