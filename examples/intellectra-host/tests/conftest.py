"""The site served on loopback with the Stripe sandbox, a receiver for Zapier's deliveries, a page.

The database comes from the integration host's test kit (``core.testing``, loaded through its
``pytest11`` entry point): a fresh SQLite file per test, or PostgreSQL with
``INTELLECTRA_TEST_DB=postgres``; so do Chromium (``chromium``, Debian's, never a downloaded one) and
``screenshot`` (into ``test-artifacts/screenshots``). The site's own tables are dropped after each test
(on PostgreSQL the kit empties only the integration host's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
from core.testing import LiveServer, free_port
from cryptography.fernet import Fernet
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intellectra_host import tables
from intellectra_host.cli import DEMO_CREATORS, seed_demo_creators
from intellectra_host.site import Site, SiteConfig, build_site

ADA = DEMO_CREATORS[0]


@attrs.define
class RunningSite:
    site: Site
    url: str

    def browser_client(self) -> httpx.Client:
        """Like a browser on the site's pages: its form posts carry the site's Origin."""
        return httpx.Client(base_url=self.url, timeout=20, headers={"Origin": self.url})

    def signed_in(self, creator: dict[str, str] = ADA) -> httpx.Client:
        """An HTTP client signed in to the site as ``creator`` (as a browser would: form, cookie)."""
        client = self.browser_client()
        login = client.get("/login")
        answer = client.post("/login", data={"email": creator["email"], "password": creator["password"],
                                             "csrf_token": form_token(login.text), "next": "/courses"})
        assert answer.status_code == 303, answer.text
        return client


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has a form with its CSRF token"
    return match[1]


@pytest.fixture
def running_site(intellectra_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSite]:
    for name in ("STRIPE_SECRET_KEY", "STRIPE_CLIENT_ID", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
                 "STRIPE_CONNECT_BASE"):
        monkeypatch.delenv(name, raising=False)  # the sandbox's keys, never a developer's real ones
    port = free_port()
    config = SiteConfig(site_url=f"http://127.0.0.1:{port}", database_url=intellectra_database_url,
                        secret_keys=Fernet.generate_key().decode(), session_secret="the site's session secret")
    site = build_site(config)
    try:
        for name in ("stripe_connect", "zapier"):
            record = site.host.plugins.records[name]
            assert record.state.value == "loaded", f"{name} did not load: {record.error}"
        seed_demo_creators(site.school)
        with LiveServer(site.app, port=port):
            yield RunningSite(site=site, url=config.site_url)
    finally:
        site.close()
        tables.metadata.drop_all(site.host.engine)


@attrs.define
class Receiver:
    """A Zapier hook target on loopback that keeps only deliveries whose signature verifies."""

    url: str = ""
    secret: str = ""
    verified: list[dict[str, Any]] = attrs.field(factory=list)
    refused: list[str] = attrs.field(factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    async def hook(request: Request) -> Response:
        body = await request.body()
        try:
            found.verified.append(Webhook(found.secret).verify(body, dict(request.headers)))
        except WebhookVerificationError as exc:
            found.refused.append(repr(exc))
            return Response(status_code=400)
        return Response(status_code=200)

    with LiveServer(Starlette(routes=[Route("/zap", hook, methods=["POST"])])) as server:
        found.url = f"{server.url}/zap"
        yield found


@pytest.fixture
def page(chromium: Any, screenshot: Any) -> Iterator[Any]:
    """A page of the test kit's ``chromium``; the page as the test left it is saved as its last screenshot."""
    context = chromium.new_context(viewport={"width": 1180, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    screenshot(page, "last")
    context.close()
