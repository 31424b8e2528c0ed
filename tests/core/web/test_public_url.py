"""Absolute URLs come from INTELLECTRA_PUBLIC_URL only; the request's Host header never enters one.

The site is reached on loopback (an allowed extra host name) while its public URL is another address
with a path prefix, as behind a proxy: every URL the host hands out must name the public address.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from web_support import DemoPay, Hooks

from core.errors import ConfigError
from core.host import Host
from core.settings import Settings
from core.web.app import create_app

PUBLIC = "https://integrations.example.com/creator-tools"


@pytest.fixture
def site_url(make_host: Callable[..., Host], live_server: Callable[..., str]) -> tuple[Host, str, str]:
    host = make_host(plugins={"demopay": DemoPay(), "hooks": Hooks()},
                     settings={"public_url": PUBLIC, "allowed_hosts": ("127.0.0.1",)})
    _, token = host.tenants.create("Ada's Studio")
    return host, live_server(create_app(host)), token


def test_a_connect_redirect_names_the_public_url_whatever_host_the_request_came_to(site_url):
    _, url, token = site_url
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        answer = api.post("/api/integrations/demopay/connect", json={"option": "new", "account": "ada"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["redirect_url"].startswith(f"{PUBLIC}/integrations/demopay/callback?")


@pytest.mark.parametrize("host_header", ["evil.example", "evil.example:443", "integrations.example.com.evil.example"])
def test_a_request_for_a_host_that_is_not_ours_is_refused(site_url, host_header: str):
    _, url, token = site_url
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}", "Host": host_header}) as api:
        answer = api.post("/api/integrations/demopay/connect", json={"option": "new", "account": "ada"})

    assert answer.status_code == 400
    assert "evil.example" not in answer.text


def test_the_public_urls_own_host_is_accepted(site_url):
    _, url, _ = site_url
    with httpx.Client(base_url=url, headers={"Host": "integrations.example.com"}) as client:
        assert client.get("/healthz").status_code == 200


def test_the_web_app_cannot_be_built_without_a_public_url(make_host: Callable[..., Host]):
    host = make_host(settings={"public_url": None})

    with pytest.raises(ConfigError, match="INTELLECTRA_PUBLIC_URL is not set") as refused:
        create_app(host)
    assert "\n" not in refused.value.message


@pytest.mark.parametrize("value", ["integrations.example.com", "ftp://example.com", "https://", "https://x.example/?a=1",
                                   "https://x.example/#top", "https://user:pw@x.example"])
def test_a_public_url_that_is_not_an_absolute_http_address_names_the_variable(value: str):
    with pytest.raises(ConfigError, match="INTELLECTRA_PUBLIC_URL must be"):
        Settings.from_env({"INTELLECTRA_PUBLIC_URL": value})


def test_the_public_url_keeps_its_prefix_without_a_trailing_slash():
    settings = Settings.from_env({"INTELLECTRA_PUBLIC_URL": "https://example.com/integrations/",
                                  "INTELLECTRA_ALLOWED_HOSTS": "internal.example, 10.0.0.7"})

    assert settings.public_url == "https://example.com/integrations"
    assert settings.trusted_hosts() == ["example.com", "internal.example", "10.0.0.7"]


def test_an_allowed_host_with_a_scheme_or_path_is_refused():
    with pytest.raises(ConfigError, match="INTELLECTRA_ALLOWED_HOSTS"):
        Settings.from_env({"INTELLECTRA_PUBLIC_URL": "https://example.com",
                           "INTELLECTRA_ALLOWED_HOSTS": "https://internal.example/"})
