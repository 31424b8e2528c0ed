"""A deployment to run the processes against: registry.toml, the environment, and the tenants, their
connected Stripe accounts and their subscriptions — made with the host's public API in the test
process, against the same database the processes use.

Every credential here is *planted*: distinctive values the secret scan looks for afterwards.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import attrs
from cryptography.fernet import Fernet

from core import Connected
from core.host import Host
from core.registry import parse_registry
from core.settings import Settings

STRIPE = "stripe_connect"
SECRET_KEY = "sk_test_PLANTEDplatformKey" + "7" * 24
CLIENT_ID = "ca_PLANTEDclient0123456789"
WEBHOOK_SECRET = "whsec_PLANTEDwebhookSecret" + "5" * 20
EVENT_TYPE = "purchase.completed"

REGISTRY_TOML = """\
autoload = false

[plugins.stripe_connect]
module = "plugins.stripe_connect"
enabled = true

[plugins.stripe_connect.config]
secret_key = "env:STRIPE_SECRET_KEY"
client_id = "env:STRIPE_CLIENT_ID"
webhook_secrets = "env:STRIPE_WEBHOOK_SECRET"
api_base = "env:STRIPE_API_BASE"
connect_base = "env:STRIPE_CONNECT_BASE"
max_network_retries = 0

[plugins.zapier]
module = "plugins.zapier"
enabled = true
"""


def registry_dict(api_base: str) -> dict[str, Any]:
    """The same registry as the file, with the values the processes read from the environment."""
    return {"autoload": False, "plugins": {
        STRIPE: {"module": "plugins.stripe_connect", "config": {
            "secret_key": SECRET_KEY, "client_id": CLIENT_ID, "webhook_secrets": WEBHOOK_SECRET,
            "api_base": api_base, "connect_base": api_base, "max_network_retries": 0}},
        "zapier": {"module": "plugins.zapier"},
    }}


@attrs.define
class Site:
    """A tenant with its bearer token, connected Stripe account and subscriptions (with their secrets)."""

    tenant_id: str
    token: str
    account: str
    access_token: str
    refresh_token: str
    subscriptions: dict[str, str] = attrs.field(factory=dict)
    """subscription id → signing secret"""


@attrs.define
class Deployment:
    database_url: str
    workdir: Path
    api_base: str = "http://127.0.0.1:9"
    """Where the plugin would call Stripe; nothing in the load runs calls it (no payment intents)."""
    secret_keys: str = attrs.field(factory=lambda: Fernet.generate_key().decode())
    sites: list[Site] = attrs.field(factory=list)
    extra_env: dict[str, str] = attrs.field(factory=dict)
    _host: Host | None = None

    def __attrs_post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "registry.toml").write_text(REGISTRY_TOML)

    @property
    def env(self) -> dict[str, str]:
        return {
            "INTELLECTRA_DATABASE_URL": self.database_url,
            "INTELLECTRA_REGISTRY": str(self.workdir / "registry.toml"),
            "INTELLECTRA_SECRET_KEYS": self.secret_keys,
            "INTELLECTRA_ALLOW_LOOPBACK_TARGETS": "1",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_CLIENT_ID": CLIENT_ID,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_CONNECT_BASE": self.api_base,
            **self.extra_env,
        }

    @property
    def host(self) -> Host:
        """The test process's own host on the deployment's database (the host app's view)."""
        if self._host is None:
            settings = Settings(database_url=self.database_url, secret_keys=self.secret_keys,
                                allow_loopback_targets=True, registry_path=self.workdir / "registry.toml")
            self._host = Host.create(settings=settings, registry=parse_registry(registry_dict(self.api_base)),
                                     migrate=False)
        return self._host

    def planted(self) -> dict[str, str]:
        """Every secret value that must never appear in plaintext outside its owner."""
        found = {"stripe secret key": SECRET_KEY, "stripe webhook secret": WEBHOOK_SECRET,
                 "secret keys": self.secret_keys}
        for i, site in enumerate(self.sites):
            found[f"site {i} bearer token"] = site.token
            found[f"site {i} access token"] = site.access_token
            found[f"site {i} refresh token"] = site.refresh_token
            for sub_id, secret in site.subscriptions.items():
                found[f"subscription {sub_id} secret"] = secret
        return found

    def add_sites(self, count: int, receiver_url: str, *, extra_subscriptions_for_first: int = 1) -> list[Site]:
        """``count`` tenants, each with a connected Stripe test account and a subscription to
        ``purchase.completed`` at the receiver; the first tenant gets extra subscriptions, so "one
        delivery per subscription" is checked with more than one."""
        host = self.host
        for i in range(count):
            tenant, token = host.tenants.create(f"Reliability Studio {i}")
            site = Site(tenant_id=tenant.id, token=token, account=f"acct_rel{i:03d}{secrets.token_hex(4)}",
                        access_token=f"sk_test_PLANTEDaccess{i}{secrets.token_hex(12)}",
                        refresh_token=f"rt_PLANTEDrefresh{i}{secrets.token_hex(12)}")
            host.connections.save_connected(tenant, STRIPE, Connected(
                external_id=site.account, livemode=False,
                secrets={"access_token": site.access_token, "refresh_token": site.refresh_token},
                data={"account_id": site.account, "connect_method": "oauth"}), actor="reliability-test")
            for n in range(1 + (extra_subscriptions_for_first if i == 0 else 0)):
                sub, secret = host.subscriptions.subscribe(tenant.id, "zapier", event_type=EVENT_TYPE,
                                                           target_url=f"{receiver_url}/hooks/{i}/{n}")
                site.subscriptions[sub.id] = secret
            self.sites.append(site)
        return self.sites

    def subscription_secrets(self) -> dict[str, str]:
        """subscription id → signing secret, for checking what the receiver got."""
        return {sub_id: secret for site in self.sites for sub_id, secret in site.subscriptions.items()}

    def subscriptions_per_account(self) -> dict[str, int]:
        return {site.account: len(site.subscriptions) for site in self.sites}

    def close(self) -> None:
        if self._host is not None:
            self._host.close()
            self._host = None
