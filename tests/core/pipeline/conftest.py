"""Fixtures for the pipeline's tests: a host with Fake Pay connected, a webhook receiver, the CLI, and an
OpenTelemetry SDK that keeps the spans in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from fakepay import ACCOUNT, FakePlugin, Receiver, signed_request
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from core import Connected
from core.cli import cli
from core.clock import ManualClock
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


@pytest.fixture
def run(intellectra_database_url: str, tmp_path: Path, clock: ManualClock) -> Callable[..., Result]:
    """Invoke the CLI on the test's database; it runs on the wall clock, so the test's clock starts at the
    wall clock too. ``run(*args, ok=False)`` returns a failed result instead of asserting success."""
    clock.set(datetime.now(UTC))
    registry = tmp_path / "registry.toml"
    registry.write_text("")
    env = {"INTELLECTRA_DATABASE_URL": intellectra_database_url, "INTELLECTRA_REGISTRY": str(registry),
           "INTELLECTRA_SECRET_KEYS": Fernet.generate_key().decode()}

    def invoke(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """An SDK for this test only: the global provider is put back to the API's no-op afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        # The API allows one provider per process; its own test utilities reset it like this.
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None
