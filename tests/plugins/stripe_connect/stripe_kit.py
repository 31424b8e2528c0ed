"""Test kit: a host with the Stripe Connect plugin, served over loopback, wired to a running Stripe sandbox.

(A module with a unique name rather than conftest, so tests can import its helpers; conftest.py
re-exports its fixtures.)

``stripe_world`` drives the whole thing the way a creator's browser would: the host's API with a tenant's
bearer token, the sandbox's HTML pages (authorize, onboarding, dashboard, checkout) and its ``/_sandbox``
test controls.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from intellectra_stripe_sandbox import SandboxServer

import plugins.stripe_connect
from core import Tenant
from core.host import Host
from core.testing import Recorder, free_port
from core.web.app import create_app

NAME = "stripe_connect"
SECRET_KEY = "sk_test_intellectraplatform0123456789"
CLIENT_ID = "ca_intellectraplatform0123456789"
WEBHOOK_SECRET = "whsec_intellectrawebhooksecret0123456789"
OLD_WEBHOOK_SECRET = "whsec_intellectrapreviousecret0123456789"


def plugin_config(sandbox_url: str, **overrides: Any) -> dict[str, Any]:
    """A valid config pointing the plugin at a sandbox (no network retries: outages fail fast)."""
    return {
        "secret_key": SECRET_KEY,
        "client_id": CLIENT_ID,
        "webhook_secrets": WEBHOOK_SECRET,
        "application_fee_percent": 10,
        "api_base": sandbox_url,
        "connect_base": sandbox_url,
        "dashboard_url": f"{sandbox_url}/dashboard",
        "max_network_retries": 0,
        **overrides,
    }


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll until ``predicate`` returns something truthy (webhooks arrive from the sandbox's threads)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def form_action(html: str, form_id: str) -> str:
    start = html.index(f'id="{form_id}"')
    at = html.index('action="', start) + len('action="')
    return html[at:html.index('"', at)]


class Site:
    """One tenant's view: the host API with its bearer token."""

    def __init__(self, world: StripeWorld, tenant: Tenant, token: str) -> None:
        self.world = world
        self.tenant = tenant
        self.api = httpx.Client(base_url=world.host_url, headers={"Authorization": f"Bearer {token}"},
                                follow_redirects=False, timeout=20)

    def start_connect(self, option: str = "oauth") -> str:
        response = self.api.post(f"/api/integrations/{NAME}/connect", json={"option": option})
        assert response.status_code == 200, response.text
        return str(response.json()["redirect_url"])

    def callback(self, url: str) -> httpx.Response:
        """Come back to the host from Stripe (JSON answer instead of the settings page redirect)."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == self.world.host_url, url
        return self.api.get(f"{parts.path}?{parts.query}", headers={"Accept": "application/json"})

    def connection(self) -> dict[str, Any]:
        response = self.api.get(f"/api/integrations/{NAME}/status")
        assert response.status_code == 200, response.text
        return dict(response.json()["connection"])

    def refresh(self) -> httpx.Response:
        return self.api.get(f"/api/integrations/{NAME}/status", params={"refresh": "1"})

    def disconnect(self) -> httpx.Response:
        return self.api.post(f"/api/integrations/{NAME}/disconnect")

    # -- the whole OAuth dance ---------------------------------------------------------------------------
    def authorize(self, *, email: str, existing: bool = True, decision: str = "connect",
                  status: str = "verified") -> str:
        """Through the sandbox authorize page: sign in (or register) and decide; returns the redirect URL."""
        sandbox = self.world.browser
        page = sandbox.get(self.start_connect("oauth"))
        assert page.status_code == 200, page.text
        if existing:
            page = sandbox.post(form_action(page.text, "signin-form"), data={"email": email})
        else:
            page = sandbox.post(form_action(page.text, "register-form"),
                                data={"email": email, "business_name": "Ada's Studio", "country": "US",
                                      "status": status})
        assert page.status_code == 200, page.text
        account = re.search(r'name="account" id="account-[^"]*" value="([^"]+)"', page.text)
        assert account, page.text
        decided = sandbox.post(form_action(page.text, "decide-form"),
                               data={"decision": decision, "account": account.group(1)})
        assert decided.status_code == 302, decided.text
        return str(decided.headers["location"])

    def connect_oauth(self, *, email: str, existing: bool = True, status: str = "verified") -> httpx.Response:
        return self.callback(self.authorize(email=email, existing=existing, status=status))

    def create_offer(self, **body: Any) -> httpx.Response:
        offer = {"title": "Watercolour basics", "kind": "course", "amount": 4900,
                 "success_url": "https://ada.example/thanks", **body}
        return self.api.post(f"/api/{NAME}/offers", json=offer)

    def close(self) -> None:
        self.api.close()


class StripeWorld:
    """The sandbox, the host and helpers bound to them."""

    def __init__(self, host: Host, host_url: str, sandbox: SandboxServer) -> None:
        self.host = host
        self.host_url = host_url
        self.sandbox = sandbox
        self.browser = httpx.Client(base_url=sandbox.url, follow_redirects=False, timeout=20)
        self.sites: list[Site] = []

    def site(self, name: str = "Ada's Studio") -> Site:
        tenant, token = self.host.tenants.create(name)
        site = Site(self, tenant, token)
        self.sites.append(site)
        return site

    def control(self, method: str, path: str, **body: Any) -> Any:
        response = self.browser.request(method, f"/_sandbox{path}", json=body if method != "GET" else None)
        assert response.status_code == 200, response.text
        return response.json()

    def new_account(self, email: str, **fields: Any) -> dict[str, Any]:
        """An account that exists at Stripe (not connected to the platform yet)."""
        return dict(self.control("POST", "/accounts", email=email, business_name="Ada's Studio", **fields))

    def events(self, event_type: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in (("type", event_type), ("account", account)) if v)
        return list(self.control("GET", f"/events?{query}")["data"])

    def stored_events(self, event_type: str, account: str | None = None) -> list[Any]:
        """Inbound events the host's intake stored (from the sandbox's webhooks)."""
        where = {"type": event_type, **({"account": account} if account else {})}
        return Recorder(self.host).inbound_events(**where)

    def wait_for_stored(self, event_type: str, account: str | None = None, count: int = 1) -> list[Any]:
        return list(wait_until(lambda: (lambda rows: rows if len(rows) >= count else None)(
            self.stored_events(event_type, account)), f"{count} stored {event_type} event(s)"))

    def attempts(self, event_id: str) -> list[dict[str, Any]]:
        return list(self.control("GET", f"/webhook_attempts?event={event_id}")["data"])

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "/requests")["data"])

    def connected_site(self, email: str = "ada@example.com", *, verified: bool = True,
                       name: str = "Ada's Studio") -> tuple[Site, str]:
        """A site whose Stripe account (existing, connected through OAuth) is ``verified`` or not."""
        account = self.new_account(email, verified=verified)
        site = self.site(name)
        answer = site.connect_oauth(email=email)
        assert answer.json()["code"] in ("connected", "action_required"), answer.text
        return site, str(account["id"])

    def buy(self, checkout_url: str, email: str = "buyer@example.com") -> str:
        """A buyer opens the checkout link, presses Buy and pays on the sandbox's page; returns the session id."""
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(checkout_url))  # a browser's form post names its page
        with httpx.Client(follow_redirects=False, timeout=20, headers={"Origin": origin}) as buyer:
            offer_page = buyer.get(checkout_url)
            assert offer_page.status_code == 200, offer_page.text
            token = re.search(r'<meta name="csrf-token" content="([^"]+)">', offer_page.text)
            assert token, "the buyer page carries a form token"
            opened = buyer.post(checkout_url, data={"csrf_token": token.group(1)})
        assert opened.status_code == 303, opened.text
        page_url = opened.headers["location"]
        paid = self.browser.post(page_url.removeprefix(self.sandbox.url),
                                 data={"email": email, "name": "Grace", "card_number": "4242424242424242",
                                       "action": "pay"})
        assert paid.status_code == 303, paid.text
        return page_url.rsplit("/", 1)[-1]

    def close(self) -> None:
        for site in self.sites:
            site.close()
        self.browser.close()


@pytest.fixture
def stripe_sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes for a test; every one is stopped afterwards."""
    started: list[SandboxServer] = []

    def start(**kwargs: Any) -> SandboxServer:
        server = SandboxServer(secret_key=SECRET_KEY, client_id=CLIENT_ID, platform_name="Intellectra (test)",
                               retry_schedule=(0.2, 0.5), **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def stripe_world(make_host: Callable[..., Host], live_server: Callable[..., str],
                 stripe_sandbox_factory: Callable[..., SandboxServer]) -> Iterator[StripeWorld]:
    """Sandbox ⇄ host over loopback: the host's callback is a registered redirect URI and its
    ``/webhooks/stripe_connect`` the sandbox's Connect webhook endpoint."""
    port = free_port()
    host_url = f"http://127.0.0.1:{port}"
    sandbox = stripe_sandbox_factory(
        redirect_uris=[f"{host_url}/integrations/{NAME}/callback"],
        webhook_endpoints=[(f"{host_url}/webhooks/{NAME}", WEBHOOK_SECRET)],
    )
    host = make_host(plugins={NAME: plugins.stripe_connect}, config={NAME: plugin_config(sandbox.url)},
                     settings={"public_url": host_url})
    live_server(create_app(host), port=port)
    world = StripeWorld(host, host_url, sandbox)
    yield world
    world.close()
