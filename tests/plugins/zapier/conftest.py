"""Fixtures for the Zapier tests: a host with the plugin and a fake host app, served over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import httpx
import pytest

import plugins.zapier as zapier_plugin
from core import Host, Tenant, ValidationFailed, hookimpl
from core.web.app import create_app
from plugins.zapier.connect_flow import create_key


class FakeHostApp:
    """The Intellectra host app's side of actions: records calls, knows one course."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    @hookimpl
    def perform_action(self, tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
        self.calls.append((tenant.id, action, dict(input)))
        if action != "enroll_member":
            return None
        if input["course_id"] != "crs_watercolour":
            raise ValidationFailed(f"There is no course {input['course_id']!r} on this site.", code="course_unknown")
        return {"enrollment_id": "enr_1", "email": input["email"], "course_id": input["course_id"]}


@attrs.define
class Site:
    """A tenant with its bearer token (tenant API) and a Zapier API key (Zapier API)."""

    tenant: Tenant
    token: str
    api_key: str
    key_id: str
    base_url: str

    def zapier(self, api_key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"X-API-Key": api_key or self.api_key}, timeout=10)

    def creator(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)


@pytest.fixture
def host_app() -> FakeHostApp:
    return FakeHostApp()


@pytest.fixture
def zapier_config() -> dict[str, Any]:
    return {}


@pytest.fixture
def zapier_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def other_plugins() -> dict[str, object]:
    """Plugins the deployment loads besides Zapier (override to add one, e.g. with event types of its own)."""
    return {}


@pytest.fixture
def zapier_host(make_host: Callable[..., Host], host_app: FakeHostApp, zapier_config: dict[str, Any],
                zapier_settings: dict[str, Any], other_plugins: dict[str, object]) -> Host:
    host = make_host(plugins={"zapier": zapier_plugin, **other_plugins}, config={"zapier": zapier_config},
                     settings=zapier_settings)
    host.plugins.register_builtin("fake_host_app", host_app)
    return host


@pytest.fixture
def base_url(zapier_host: Host, live_server: Callable[..., str]) -> str:
    return live_server(create_app(zapier_host))


@pytest.fixture
def make_site(zapier_host: Host, base_url: str) -> Callable[[str], Site]:
    def make(name: str) -> Site:
        tenant, token = zapier_host.tenants.create(name)
        key, plaintext = create_key(zapier_host.context("zapier").for_tenant(tenant), label=f"{name} key",
                                    actor="test")
        return Site(tenant=tenant, token=token, api_key=plaintext, key_id=key.id, base_url=base_url)

    return make


@pytest.fixture
def site(make_site: Callable[[str], Site]) -> Site:
    return make_site("Ada's Studio")


@pytest.fixture
def zapier(site: Site) -> Iterator[httpx.Client]:
    with site.zapier() as client:
        yield client
