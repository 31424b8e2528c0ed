"""OpenTelemetry spans follow one event from intake through its handler to each delivery, linked by ids.

The SDK's in-memory exporter stands in for the operator's collector; without an SDK the spans are no-ops.
"""

from __future__ import annotations

import httpx
import pytest
from fakepay import signed_request, thing_paid
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from core.telemetry import tracing_enabled
from core.web.app import create_app


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


@pytest.fixture
def served(fake, receiver, live_server):
    target = live_server(receiver.app())
    for _ in range(2):  # two subscriptions: one event, two deliveries
        fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                          target_url=f"{target}/hook")
    return fake, live_server(create_app(fake.host))


async def test_one_events_spans_run_from_intake_through_its_handler_to_each_delivery(served, spans, recorder):
    fake, url = served
    body, headers = signed_request(thing_paid("evt_1"))
    assert httpx.post(f"{url}/webhooks/fake", content=body, headers=headers, timeout=10).status_code == 200
    await fake.host.pipeline.run_once()

    (intake,) = named(spans, "intellectra.intake")
    (inbound_id,) = intake.attributes["intellectra.inbound_event.ids"]
    assert intake.attributes["intellectra.integration"] == "fake"
    assert intake.attributes["http.response.status_code"] == 200

    (handling,) = named(spans, "intellectra.handle_event")
    assert handling.attributes["intellectra.inbound_event.id"] == inbound_id
    assert handling.attributes["intellectra.outcome"] == "processed"
    assert handling.attributes["intellectra.tenant.id"] == fake.tenant.id

    (domain_event,) = recorder.domain_events("purchase.completed")
    deliveries = named(spans, "intellectra.deliver")
    assert len(deliveries) == 2
    assert {d.attributes["intellectra.delivery.id"] for d in deliveries} == {d.id for d in recorder.deliveries()}
    for delivery in deliveries:
        assert delivery.attributes["intellectra.inbound_event.id"] == inbound_id
        assert delivery.attributes["intellectra.domain_event.id"] == domain_event.id
        assert delivery.attributes["intellectra.outcome"] == "delivered"
        assert delivery.attributes["http.response.status_code"] == 200
    assert intake.end_time <= handling.start_time and handling.end_time <= min(d.start_time for d in deliveries)


async def test_refusals_failures_and_retries_are_error_spans(served, spans, receiver):
    fake, url = served
    body, headers = signed_request(thing_paid("evt_1"))
    bad = httpx.post(f"{url}/webhooks/fake", content=body, headers={**headers, "x-fake-signature": "0" * 64},
                     timeout=10)
    assert bad.status_code == 401
    (refused,) = named(spans, "intellectra.intake")
    assert refused.status.status_code is StatusCode.ERROR and refused.status.description == "signature_invalid"

    fake.plugin.fail_times = 1
    fake.receive(thing_paid("evt_2"))
    await fake.host.pipeline.run_once()
    (failed,) = named(spans, "intellectra.handle_event")
    assert failed.attributes["intellectra.outcome"] == "retry"
    assert failed.status.status_code is StatusCode.ERROR and "the fake provider is down" in failed.status.description

    receiver.script = [(503, {}), (503, {})]
    fake.host.clock.advance(3600)
    await fake.host.pipeline.run_once()
    retried = named(spans, "intellectra.deliver")
    assert [d.attributes["intellectra.outcome"] for d in retried] == ["retry", "retry"]
    assert all(d.status.status_code is StatusCode.ERROR for d in retried)


def test_without_an_sdk_the_spans_cost_nothing_and_record_nothing(fake):
    assert not tracing_enabled()
    result = fake.receive(thing_paid("evt_1"))
    assert result.ok
    assert not trace.get_current_span().is_recording()
