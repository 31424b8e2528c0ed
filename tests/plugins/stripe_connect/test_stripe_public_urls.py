"""Every URL the Stripe plugin hands out (OAuth redirect, onboarding return and refresh, checkout links) is
built from INTELLECTRA_PUBLIC_URL, with its path prefix, never from the Host header of the request.

The host is reached over loopback (an allowed extra host name, as behind a proxy) while its public URL is
``https://integrations.example.com/tools``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from intellectra_stripe_sandbox import SandboxServer
from stripe_kit import NAME, WEBHOOK_SECRET, StripeWorld, form_action, plugin_config

import plugins.stripe_connect
from core.host import Host
from core.testing import free_port
from core.web.app import create_app

PUBLIC = "https://integrations.example.com/tools"


@pytest.fixture
def proxied_world(make_host: Callable[..., Host], live_server: Callable[..., str],
                  stripe_sandbox_factory: Callable[..., SandboxServer]) -> Iterator[StripeWorld]:
    port = free_port()
    reached_at = f"http://127.0.0.1:{port}"
    sandbox = stripe_sandbox_factory(redirect_uris=[f"{PUBLIC}/integrations/{NAME}/callback"],
                                     webhook_endpoints=[(f"{reached_at}/webhooks/{NAME}", WEBHOOK_SECRET)])
    host = make_host(plugins={NAME: plugins.stripe_connect}, config={NAME: plugin_config(sandbox.url)},
                     settings={"public_url": PUBLIC, "allowed_hosts": ("127.0.0.1",)})
    live_server(create_app(host), port=port)
    world = StripeWorld(host, reached_at, sandbox)
    yield world
    world.close()


def test_the_oauth_redirect_uri_is_the_public_callback(proxied_world: StripeWorld) -> None:
    site = proxied_world.site()

    authorize = site.start_connect("oauth")

    redirect_uri = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
    assert redirect_uri == f"{PUBLIC}/integrations/{NAME}/callback"


def test_a_forged_host_header_gets_no_authorize_url_at_all(proxied_world: StripeWorld) -> None:
    site = proxied_world.site()

    answer = site.api.post(f"/api/integrations/{NAME}/connect", json={"option": "oauth"},
                           headers={"Host": "evil.example"})

    assert answer.status_code == 400
    assert "evil.example" not in answer.text


def test_onboarding_returns_and_refreshes_to_the_public_url(proxied_world: StripeWorld) -> None:
    site = proxied_world.site()
    page = proxied_world.browser.get(site.start_connect("onboarding"))
    back = proxied_world.browser.post(form_action(page.text, "onboarding-form"), data={"action": "save"})
    unused_link = site.start_connect("onboarding")
    proxied_world.control("POST", "/clock", advance=600)

    expired = proxied_world.browser.get(unused_link)

    assert back.headers["location"].startswith(f"{PUBLIC}/integrations/{NAME}/callback?")
    assert expired.status_code == 302
    assert expired.headers["location"].startswith(f"{PUBLIC}/integrations/{NAME}/callback?")


def test_a_checkout_link_is_on_the_public_url(proxied_world: StripeWorld) -> None:
    proxied_world.new_account("ada@example.com", verified=True)
    site = proxied_world.site()
    callback = urlsplit(site.authorize(email="ada@example.com"))
    connected = site.api.get(f"{callback.path.removeprefix('/tools')}?{callback.query}",
                             headers={"Accept": "application/json"})
    assert connected.json()["code"] == "connected", connected.text

    offer = site.create_offer().json()["offer"]

    assert offer["checkout_url"].startswith(f"{PUBLIC}/integrations/{NAME}/buy/")


def test_the_plugin_never_reads_the_request_host() -> None:
    from pathlib import Path

    sources = Path(plugins.stripe_connect.__file__).parent.glob("*.py")
    offending = [f"{path.name}: {line.strip()}" for path in sources for line in path.read_text().splitlines()
                 if any(marker in line for marker in ("url.netloc", "request.base_url", "headers.get(\"host\")"))]

    assert offending == []
