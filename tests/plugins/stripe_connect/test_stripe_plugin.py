"""The plugin as the host sees it: configuration, diagnostics, and ``serve --sandbox``'s dev server."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from stripe_kit import NAME, SECRET_KEY, WEBHOOK_SECRET, StripeWorld, plugin_config

import plugins.stripe_connect
from core import Secret
from core.host import Host
from core.plugins import PluginState
from core.testing import free_port
from core.web.app import create_app
from plugins.stripe_connect.config import StripeConnectConfig


@pytest.mark.parametrize(("key", "value", "complaint"), [
    ("application_fee_percent", 150, "must be >= 0 and <= 100"),
    ("application_fee_percent", -1, "must be >= 0 and <= 100"),
    ("secret_key", "pk_test_publishable", "must be a Stripe secret key"),
    ("client_id", "acct_123", "Connect client id (ca_...)"),
])
def test_invalid_config_fails_the_plugin_naming_the_key_path(make_host: Callable[..., Host], key: str, value: Any,
                                                              complaint: str) -> None:
    host = make_host(plugins={NAME: plugins.stripe_connect},
                     config={NAME: plugin_config("http://127.0.0.1:9", **{key: value})})

    record = host.plugins.records[NAME]
    assert record.state is PluginState.FAILED
    assert f"plugins.{NAME}.config.{key}" in (record.error or "")
    assert complaint in (record.error or "")


def test_the_registry_reads_every_secret_from_the_environment() -> None:
    import tomllib
    from pathlib import Path

    table = tomllib.loads(Path("registry.toml").read_text())["plugins"][NAME]["config"]

    assert table["secret_key"] == "env:STRIPE_SECRET_KEY"
    assert table["client_id"] == "env:STRIPE_CLIENT_ID"
    assert table["webhook_secrets"] == "env:STRIPE_WEBHOOK_SECRET"


def test_diagnostics_describe_the_connection_without_any_secret(stripe_world: StripeWorld) -> None:
    site, account_id = stripe_world.connected_site()
    connection = stripe_world.host.connections.find(site.tenant.id, NAME)
    assert connection is not None
    ctx = stripe_world.host.context(NAME, tenant=site.tenant, connection=connection)

    facts = stripe_world.host.plugins.call(NAME, "diagnostics", ctx=ctx, tenant=site.tenant, connection=connection)

    assert facts["account_id"] == account_id
    assert (facts["key_mode"], facts["connection_mode"], facts["charges_enabled"]) == ("test", "test", True)
    text = json.dumps(facts)
    secrets = [SECRET_KEY, WEBHOOK_SECRET, *stripe_world.host.connections.secrets_of(connection.id).values()]
    assert not [s for s in secrets if s in text]


def test_the_dev_server_is_a_sandbox_wired_to_the_host_for_a_whole_sale(
        make_host: Callable[..., Host], live_server: Callable[..., str]) -> None:
    port = free_port()
    host_url = f"http://127.0.0.1:{port}"
    # No credentials at all: in sandbox mode the dev server's keys are the plugin's config.
    host = make_host(plugins={NAME: plugins.stripe_connect}, settings={"public_url": host_url},
                     sandbox_base_url=host_url)
    assert host.plugins.records[NAME].state.value == "loaded", host.plugins.records[NAME].error
    [(owner, server)] = host.plugins.dev_servers
    assert owner == NAME
    try:
        live_server(create_app(host), port=port)
        world = StripeWorld(host, host_url, SimpleNamespace(url=server.url))  # type: ignore[arg-type]

        site = world.site()
        answer = site.connect_oauth(email="demo@example.com", existing=False)
        world.buy(site.create_offer().json()["offer"]["checkout_url"])

        assert answer.json()["code"] == "connected", answer.text
        assert world.wait_for_stored("checkout.session.completed")
        assert server.name == "Stripe sandbox"
        assert server.config_overrides["dashboard_url"] == f"{server.url}/dashboard"
        world.close()
    finally:
        server.stop()


def test_the_bases_default_to_stripe_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.delenv("STRIPE_CONNECT_BASE", raising=False)

    config = StripeConnectConfig(secret_key=Secret(SECRET_KEY), client_id="ca_1")

    assert (config.api_base, config.connect_base) == ("https://api.stripe.com", "https://connect.stripe.com")


def test_the_bases_follow_the_environment_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    monkeypatch.setenv("STRIPE_CONNECT_BASE", "http://127.0.0.1:12112")

    config = StripeConnectConfig(secret_key=Secret(SECRET_KEY), client_id="ca_1")

    assert (config.api_base, config.connect_base) == ("http://127.0.0.1:12111", "http://127.0.0.1:12112")
