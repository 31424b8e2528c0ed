"""Fixtures for the pipeline's tests: a host with Fake Pay connected, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from fakepay import ACCOUNT, FakePlugin, Receiver, signed_request

from core import Connected
from core.host import Host
from core.models import Connection, Tenant


@attrs.define
class Fake:
    """A host with the fake provider, one tenant connected to ``ACCOUNT``."""

    host: Host
    plugin: FakePlugin
    tenant: Tenant
    connection: Connection

    def receive(self, payload: dict[str, Any]) -> Any:
        body, headers = signed_request(payload)
        return self.host.pipeline.intake.receive_sync("fake", body, headers)


@pytest.fixture
def make_fake(make_host: Callable[..., Host]) -> Callable[..., Fake]:
    def build(**host_kwargs: Any) -> Fake:
        plugin = FakePlugin()
        host = make_host(plugins={"fake": plugin}, **host_kwargs)
        tenant, _ = host.tenants.create("Ada's Studio")
        connection = host.connections.save_connected(tenant, "fake", Connected(external_id=ACCOUNT), actor="test")
        return Fake(host=host, plugin=plugin, tenant=tenant, connection=connection)

    return build


@pytest.fixture
def fake(make_fake: Callable[..., Fake]) -> Fake:
    return make_fake()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()
