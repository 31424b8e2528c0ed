"""``ctx.http``: what a plugin sends goes through the same connection-time address check as deliveries.

In production a plugin's request to a loopback, private, link-local or metadata address is refused
before a socket is opened; development mode (``allow_loopback_targets``) allows loopback only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from core import Connected, ConnectError, Field, IntegrationContext, IntegrationInfo, hookimpl

PRODUCTION = {"allow_loopback_targets": False}
DEVELOPMENT = {"allow_loopback_targets": True}


class Pinger:
    """A plugin whose connect calls the URL a creator entered, as a webhook integration would."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="pinger", title="Pinger", description="Checks that a URL answers.",
                               connect_fields=[Field(name="url", label="URL", required=True),
                                               Field(name="follow", label="Follow redirects (yes/no)")])

    @hookimpl
    def connect(self, ctx: IntegrationContext, form: Mapping[str, str]) -> Connected:
        try:
            ctx.http.get(form["url"], follow_redirects=form.get("follow") == "yes").raise_for_status()
        except httpx.HTTPError as exc:
            raise ConnectError(f"That URL did not answer: {exc}") from exc
        return Connected(external_id=form["url"])


@pytest.fixture
def receiver(live_server):
    """A server on 127.0.0.1 that records every request it gets; returns (url, paths seen)."""
    seen: list[str] = []

    async def record(request: Request) -> Response:
        seen.append(request.url.path)
        if request.url.path == "/hop":
            return RedirectResponse(str(request.query_params["to"]), status_code=302)
        return PlainTextResponse("pong")

    url = live_server(Starlette(routes=[Route("/{path:path}", record)]))
    return url, seen


def connect_pinger(make_host, settings: Mapping[str, bool], url: str, **form: str):
    host = make_host(plugins={"pinger": Pinger()}, settings=settings)
    site, _ = host.tenants.create("Site")
    return host.connect(site, "pinger", {"url": url, **form})


def test_a_loopback_address_is_refused_in_production_and_reaches_nothing(make_host, receiver):
    url, seen = receiver

    with pytest.raises(ConnectError, match=r"127\.0\.0\.1.*public addresses only"):
        connect_pinger(make_host, PRODUCTION, url)

    assert seen == [], "no request reached the loopback server"


def test_a_name_that_resolves_to_loopback_is_refused_in_production(make_host, receiver):
    url, seen = receiver

    with pytest.raises(ConnectError, match="public addresses only"):
        connect_pinger(make_host, PRODUCTION, url.replace("127.0.0.1", "localhost"))

    assert seen == []


@pytest.mark.parametrize("address", ["10.255.255.1", "192.168.0.1", "169.254.169.254", "[fd00::1]", "0.0.0.0"])
def test_a_private_link_local_or_metadata_address_is_refused_before_any_connection(make_host, address):
    started = time.monotonic()

    with pytest.raises(ConnectError, match="public addresses only"):
        connect_pinger(make_host, PRODUCTION, f"http://{address}:9/")

    assert time.monotonic() - started < 2, "refused at once, not after trying to connect"


def test_development_mode_allows_loopback(make_host, receiver):
    url, seen = receiver

    outcome = connect_pinger(make_host, DEVELOPMENT, f"{url}/ping")

    assert outcome.connection is not None and seen == ["/ping"]


def test_development_mode_still_refuses_private_addresses(make_host):
    with pytest.raises(ConnectError, match="10.255.255.1"):
        connect_pinger(make_host, DEVELOPMENT, "http://10.255.255.1:9/")


def test_a_redirect_is_not_followed_unless_asked(make_host, receiver):
    url, seen = receiver

    with pytest.raises(ConnectError, match="302"):
        connect_pinger(make_host, DEVELOPMENT, f"{url}/hop?to={url}/elsewhere")

    assert seen == ["/hop"]


def test_a_redirect_the_plugin_follows_is_checked_again_at_every_hop(make_host, receiver):
    url, seen = receiver

    with pytest.raises(ConnectError, match=r"169\.254\.169\.254.*public addresses only"):
        connect_pinger(make_host, DEVELOPMENT, f"{url}/hop?to=http://169.254.169.254/latest/meta-data/",
                       follow="yes")

    assert seen == ["/hop"]


def test_cookies_a_provider_sets_are_not_kept_for_the_next_request(make_host, live_server):
    cookies: list[str] = []

    async def handler(request: Request) -> Response:
        cookies.append(request.headers.get("cookie", ""))
        answer = PlainTextResponse("ok")
        answer.set_cookie("session", "tenant-a-session")
        return answer

    url = live_server(Starlette(routes=[Route("/", handler)]))
    host = make_host(settings=DEVELOPMENT)

    host.http.get(f"{url}/")
    host.http.get(f"{url}/")

    assert cookies == ["", ""], "a shared client must not carry one tenant's cookie into another's request"
