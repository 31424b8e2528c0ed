"""The arena for hostile input: a production-mode host (no loopback targets, real secret keys) with the
Stripe and Zapier plugins, served over loopback, wired to a Stripe sandbox for OAuth; two tenants with
everything an attacker could aim at (connections, subscriptions, deliveries, API keys, domain events),
and a third tenant whose Stripe connection is live-mode.

Everything is made through the host's public API and its HTTP endpoints.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import httpx
from cryptography.fernet import Fernet
from intellectra_stripe_sandbox import SandboxServer

from core import Connected
from core.clock import ManualClock
from core.guarded_transport import guarded_client
from core.host import Host
from core.registry import parse_registry
from core.settings import Settings
from core.store.engine import make_engine, upgrade
from core.testing import LiveServer, free_port, skip_or_fail
from core.web.app import create_app
from harness import postgres
from harness.world import CLIENT_ID, SECRET_KEY, STRIPE, WEBHOOK_SECRET, registry_dict

PUBLIC_ADDRESSES = {"hooks.example.test": ["93.184.216.34"]}
"""Host names the arena's resolver knows; nothing is ever sent to them (subscribing sends nothing)."""
PRIVATE_ADDRESSES = {
    "intranet.example.test": ["10.1.2.3"],
    "rebind.example.test": ["93.184.216.34", "192.168.0.10"],
    "metadata.example.test": ["169.254.169.254"],
    "v6private.example.test": ["fd00::1"],
    "loopback.example.test": ["127.0.0.1"],
}


def resolver(host: str, port: int) -> list[str]:
    """Stands in for DNS (no network here): known names resolve as listed, ``localhost`` to loopback,
    and numeric forms as the system reads them (``2130706433``, ``0x7f000001``, ``127.1``) — no query is
    ever made."""
    import socket

    known = {**PUBLIC_ADDRESSES, **PRIVATE_ADDRESSES, "localhost": ["127.0.0.1", "::1"]}
    if host in known:
        return known[host]
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


@attrs.define
class Tenant:
    id: str
    token: str
    account: str
    api_key: str = ""
    api_key_id: str = ""
    hook_id: str = ""
    delivery_id: str = ""
    event_id: str = ""

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@attrs.define
class Arena:
    host: Host
    url: str
    port: int
    sandbox: SandboxServer
    server: LiveServer
    clock: ManualClock
    a: Tenant
    b: Tenant
    live: Tenant
    http: httpx.Client = attrs.field(factory=lambda: httpx.Client(timeout=20, follow_redirects=False))

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.sandbox.stop()
        self.host.close()

    # -- the OAuth dance through the sandbox's pages, as a creator's browser does it -----------------------------
    def start_connect(self, tenant: Tenant) -> str:
        answer = self.http.post(f"{self.url}/api/integrations/{STRIPE}/connect", json={"option": "oauth"},
                                headers=tenant.bearer)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["redirect_url"])

    def authorize(self, authorize_url: str, email: str) -> dict[str, str]:
        """Sign in at the sandbox and press Connect; returns the callback's query (``code``, ``state``)."""
        page = self.http.get(authorize_url)
        assert page.status_code == 200, page.text
        page = self.http.post(self.sandbox.url + _action(page.text, "signin-form"), data={"email": email})
        assert page.status_code == 200, page.text
        account = re.search(r'name="account" id="account-[^"]*" value="([^"]+)"', page.text)
        assert account, page.text
        decided = self.http.post(self.sandbox.url + _action(page.text, "decide-form"),
                                 data={"decision": "connect", "account": account.group(1)})
        assert decided.status_code == 302, decided.text
        return {k: v[0] for k, v in parse_qs(urlsplit(decided.headers["location"]).query).items()}

    def callback(self, tenant: Tenant, params: dict[str, str]) -> httpx.Response:
        return self.http.get(f"{self.url}/integrations/{STRIPE}/callback", params=params,
                             headers={**tenant.bearer, "Accept": "application/json"})

    def new_sandbox_account(self, email: str) -> str:
        answer = self.http.post(f"{self.sandbox.url}/_sandbox/accounts",
                                json={"email": email, "business_name": "Hostile Studio", "verified": True})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])


def _action(html: str, form_id: str) -> str:
    start = html.index(f'id="{form_id}"')
    at = html.index('action="', start) + len('action="')
    action = html[at:html.index('"', at)]
    return action if action.startswith("/") else urlsplit(action).path


@contextlib.contextmanager
def migrated_database(kind: str, tmp: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database: a SQLite file in ``tmp``, or a PostgreSQL database of its
    own (dropped afterwards; skipped without a server, failed under CI=true)."""
    database = None
    if kind == "postgres":
        if not postgres.available():
            skip_or_fail(f"PostgreSQL is not reachable at {postgres.admin_url()}")
        database = postgres.new_database()
    try:
        url = f"sqlite:///{tmp / 'arena.db'}" if database is None else database.url
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        if database is not None:
            database.drop()


def build(url: str) -> Arena:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = SandboxServer(secret_key=SECRET_KEY, client_id=CLIENT_ID, platform_name="Intellectra (reliability)",
                            redirect_uris=[f"{base}/integrations/{STRIPE}/callback"]).start()
    clock = ManualClock(datetime.now(UTC))
    settings = Settings(database_url=url, secret_keys=Fernet.generate_key().decode(), public_url=base,
                        allow_loopback_targets=False, session_secret="arena-session-secret-0123456789")
    registry = registry_dict(sandbox.url)
    registry["plugins"][STRIPE]["config"]["webhook_tolerance"] = 300
    host = Host.create(settings=settings, registry=parse_registry(registry), migrate=False, clock=clock)
    host.subscriptions.resolver = resolver
    # Production mode everywhere but one place: the arena's Stripe is the sandbox on 127.0.0.1, and the
    # plugin reaches it through ctx.http, so that client (and only it) may reach loopback. Subscriptions
    # and deliveries, which the arena's SSRF cases attack, keep the production policy.
    host.http = guarded_client(allow_loopback=True)
    server = LiveServer(create_app(host), port=port).start()
    a, b = (_tenant(host, name, _sandbox_account(sandbox, email), livemode=False) for name, email in
            (("Studio A", "a@studio.example"), ("Studio B", "b@studio.example")))
    live = _tenant(host, "Live Studio", "acct_arenaLive0003", livemode=True)
    arena = Arena(host=host, url=base, port=port, sandbox=sandbox, server=server, clock=clock, a=a, b=b, live=live)
    for tenant in (a, b):
        _equip(arena, tenant)
    return arena


def _sandbox_account(sandbox: SandboxServer, email: str) -> str:
    """An account that exists at (sandbox) Stripe and is connected to the platform."""
    answer = httpx.post(f"{sandbox.url}/_sandbox/accounts", json={"email": email, "business_name": email,
                                                                  "verified": True, "connected": True}, timeout=20)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def _tenant(host: Host, name: str, account: str, *, livemode: bool) -> Tenant:
    tenant, token = host.tenants.create(name)
    host.connections.save_connected(tenant, STRIPE, Connected(
        external_id=account, livemode=livemode, secrets={"access_token": f"sk_test_arena_{account}"},
        data={"account_id": account}), actor="arena")
    return Tenant(id=tenant.id, token=token, account=account)


def _equip(arena: Arena, tenant: Tenant) -> None:
    """An API key (over HTTP), a Zapier hook, and a domain event with a pending delivery."""
    http = arena.http
    created = http.post(f"{arena.url}/api/zapier/keys", json={"label": "Zaps"}, headers=tenant.bearer)
    assert created.status_code == 201, created.text
    tenant.api_key, tenant.api_key_id = created.json()["api_key"], created.json()["key"]["id"]
    hook = http.post(f"{arena.url}/api/zapier/hooks", headers={"X-API-Key": tenant.api_key},
                     json={"target_url": "https://hooks.example.test/catch/1", "event": "purchase.completed"})
    assert hook.status_code == 201, hook.text
    tenant.hook_id = hook.json()["id"]
    event = arena.host.emit(tenant.id, "purchase.completed", {
        "offer_id": "off_1", "offer_title": "Course", "buyer_email": "b@example.com", "amount": 100,
        "currency": "usd", "provider": "stripe", "provider_account": tenant.account})
    tenant.event_id = event.id
    [delivery] = arena.host.pipeline.list_deliveries(tenant_id=tenant.id, limit=1)
    tenant.delivery_id = delivery.id


def signed_request(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
                   timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    from harness.stripe_events import event_bytes, signature_header

    body = event_bytes(event)
    return body, {"Content-Type": "application/json", "Stripe-Signature": signature_header(body, secret, timestamp)}
