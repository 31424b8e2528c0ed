"""Fixtures for the settings page and tenant API tests (the helpers live in ``web_support``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from web_support import Broken, DemoPay, Hooks, Site

from core.host import Host
from core.testing import free_port
from core.web.app import create_app


@pytest.fixture
def make_site(make_host: Callable[..., Host], live_server: Callable[..., str]) -> Iterator[Callable[..., Site]]:
    sites: list[Site] = []

    def build(*, broken: bool = False, settings: Mapping[str, Any] | None = None,
              extra: Mapping[str, object] | None = None) -> Site:
        demopay = DemoPay()
        plugins: dict[str, object] = {"demopay": demopay, "hooks": Hooks(), **(extra or {})}
        if broken:
            plugins["broken"] = Broken()
        port = free_port()
        host = make_host(plugins=plugins, settings={"public_url": f"http://127.0.0.1:{port}", **(settings or {})})
        tenants = {who: host.tenants.create(name) for who, name in (("a", "Ada's Studio"), ("b", "Bob's Bakery"))}
        site = Site(host=host, url=live_server(create_app(host), port=port), demopay=demopay, tenants=tenants)
        sites.append(site)
        return site

    yield build
    for site in sites:
        for client in site.clients:
            client.close()


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()
