"""Fixtures for the Stripe sandbox tests: a running sandbox, a webhook receiver, the real stripe client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe
from intellectra_stripe_sandbox import SandboxServer

SECRET_KEY = "sk_test_platform0123456789abcdefghij"
LIVE_SECRET_KEY = "sk_live_platform0123456789abcdefghij"
CLIENT_ID = "ca_sandboxplatform0123456789"
REDIRECT_URI = "http://127.0.0.1:9/stripe/callback"
WEBHOOK_SECRET = "whsec_sandboxtestsecret0123456789"
API_VERSION = "2026-10-28.endive"


class WebhookReceiver:
    """A loopback HTTP server that records webhook POSTs; ``fail_next(n)`` answers 500 n times."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._failures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver._lock:
                    failing = receiver._failures > 0
                    if failing:
                        receiver._failures -= 1
                    receiver.received.append(
                        {"headers": dict(self.headers), "body": body, "status": 500 if failing else 200}
                    )
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failures = count

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Successfully received events (parsed), optionally of one type."""
        with self._lock:
            bodies = [r["body"] for r in self.received if r["status"] == 200]
        parsed = [json.loads(b) for b in bodies]
        return [e for e in parsed if event_type is None or e["type"] == event_type]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError("timed out waiting for webhooks; received: " + repr(self.received))

    def wait_for_event(self, event_type: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.wait_for(
            lambda: (lambda events: events if len(events) >= count else None)(self.events(event_type)),
            timeout,
        )
        return found

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def second_receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def sandbox(receiver: WebhookReceiver) -> Iterator[SandboxServer]:
    server = SandboxServer(
        secret_key=SECRET_KEY,
        live_secret_key=LIVE_SECRET_KEY,
        client_id=CLIENT_ID,
        redirect_uris=[REDIRECT_URI],
        webhook_endpoints=[(receiver.url, WEBHOOK_SECRET)],
        retry_schedule=(0.05, 0.1, 0.2),
        platform_name="Intellectra Test Platform",
    )
    with server:
        yield server


def make_client(server: SandboxServer, key: str = SECRET_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        client_id=CLIENT_ID,
        base_addresses={"api": server.url, "connect": server.url},
        stripe_version=API_VERSION,
    )


@pytest.fixture
def client(sandbox: SandboxServer) -> stripe.StripeClient:
    return make_client(sandbox)


@pytest.fixture
def live_client(sandbox: SandboxServer) -> stripe.StripeClient:
    return make_client(sandbox, LIVE_SECRET_KEY)


@pytest.fixture
def http(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, follow_redirects=False, timeout=10) as session:
        yield session


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_action(html: str, form_id: str) -> str:
    """The ``action`` of the form with that id (the sandbox's forms post to relative URLs)."""
    start = html.index(f'id="{form_id}"')
    action_at = html.index('action="', start) + len('action="')
    return html[action_at : html.index('"', action_at)]


class Kit:
    """Helpers the tests share (conftest modules cannot be imported), bound to this test's sandbox."""

    SECRET_KEY = SECRET_KEY
    LIVE_SECRET_KEY = LIVE_SECRET_KEY
    CLIENT_ID = CLIENT_ID
    REDIRECT_URI = REDIRECT_URI
    WEBHOOK_SECRET = WEBHOOK_SECRET
    API_VERSION = API_VERSION
    query_of = staticmethod(query_of)
    path_of = staticmethod(path_of)
    form_action = staticmethod(form_action)

    def __init__(
        self,
        server: SandboxServer,
        client: stripe.StripeClient,
        http: httpx.Client,
        receiver: WebhookReceiver,
    ) -> None:
        self.server = server
        self.client = client
        self.http = http
        self.receiver = receiver

    def make_client(self, key: str = SECRET_KEY) -> stripe.StripeClient:
        return make_client(self.server, key)

    def authorize_page(self, state: str = "state-123", **params: Any) -> str:
        """Open the authorize page built by ``client.oauth.authorize_url`` and return its HTML."""
        url = self.client.oauth.authorize_url(
            {"scope": "read_write", "redirect_uri": REDIRECT_URI, "state": state, **params}
        )
        response = self.http.get(path_of(url))
        assert response.status_code == 200, response.text
        return response.text

    def register_on_page(self, page: str, email: str, status: str = "verified") -> str:
        registered = self.http.post(
            form_action(page, "register-form"),
            data={"email": email, "business_name": "Creator Co", "country": "US", "status": status},
        )
        assert registered.status_code == 200, registered.text
        return registered.text

    def connect_new_account(
        self, *, email: str = "creator@example.com", status: str = "verified", state: str = "state-123"
    ) -> dict[str, str]:
        """Authorize page → register a new account → Connect; returns the redirect's query parameters."""
        page = self.register_on_page(self.authorize_page(state), email, status)
        account_id = page.split('name="account" id="account-')[1].split('"')[0]
        decided = self.http.post(form_action(page, "decide-form"), data={"account": account_id, "decision": "connect"})
        assert decided.status_code == 302, decided.text
        return query_of(decided.headers["location"])

    def connect_account(self, **kwargs: Any) -> Any:
        """Connect a new account through OAuth and exchange the code; returns the token response."""
        query = self.connect_new_account(**kwargs)
        return self.client.oauth.token({"grant_type": "authorization_code", "code": query["code"]})

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(f"/_sandbox{path}", json=body or {})
        assert response.status_code == 200, response.text
        return response.json()

    def connected_account(self, **body: Any) -> str:
        """A new account already connected to the platform (test mode), created through the controls."""
        return str(self.control("/accounts", {"connected": True, **body})["id"])

    def paid_session(self, account: str, amount: int = 2500, fee: int | None = 250) -> Any:
        """A one-time checkout session on ``account``, paid through the controls; returns the session."""
        options: Any = {"stripe_account": account}
        product = self.client.v1.products.create({"name": "Course"}, options)
        price = self.client.v1.prices.create({"product": product.id, "unit_amount": amount, "currency": "usd"}, options)
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://site.example/thanks?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://site.example/cancel",
        }
        if fee is not None:
            params["payment_intent_data"] = {"application_fee_amount": fee}
        session = self.client.v1.checkout.sessions.create(params, options)
        self.control(f"/checkout/sessions/{session.id}/pay", {"email": "buyer@example.com"})
        return self.client.v1.checkout.sessions.retrieve(session.id, None, options)


@pytest.fixture
def kit(sandbox: SandboxServer, client: stripe.StripeClient, http: httpx.Client, receiver: WebhookReceiver) -> Kit:
    return Kit(sandbox, client, http, receiver)
