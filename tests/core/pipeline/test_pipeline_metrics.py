"""What ``GET /metrics`` says about the pipeline, scraped over real HTTP and parsed with prometheus_client.

Counters belong to the process (several tests share it), so each test compares two scrapes.
"""

from __future__ import annotations

import httpx
import pytest
from fakepay import signed_request, thing_paid
from prometheus_client.parser import text_string_to_metric_families

from core.web.app import create_app

TOKEN = "metrics-token-for-tests-0123456789"


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def served(make_fake, receiver, live_server):
    """Fake Pay with a subscription to a live receiver, and the web app served over HTTP with metrics on."""
    fake = make_fake(settings={"metrics_token": TOKEN})
    target = live_server(receiver.app())
    fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                      target_url=f"{target}/hook")
    return fake, live_server(create_app(fake.host))


def post(url: str, payload: dict, *, signed: bool = True) -> httpx.Response:
    body, headers = signed_request(payload)
    if not signed:
        headers["x-fake-signature"] = "0" * 64
    return httpx.post(f"{url}/webhooks/fake", content=body, headers=headers, timeout=10)


async def test_intake_handling_and_delivery_are_counted_by_integration_and_outcome(served, receiver):
    fake, url = served
    before = scrape(url)
    assert post(url, thing_paid("evt_1")).status_code == 200
    assert post(url, thing_paid("evt_1")).status_code == 200  # Stripe's retry of the same event
    assert post(url, thing_paid("evt_2"), signed=False).status_code == 401
    assert post(url, thing_paid("evt_3")).status_code == 200
    assert httpx.post(f"{url}/webhooks/nobody", content=b"{}", timeout=10).status_code == 404
    report = await fake.host.pipeline.run_once()
    assert (report.events.processed, report.deliveries.delivered) == (2, 2)
    after = scrape(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("intellectra_intake_requests_total", integration="fake", outcome="accepted") == 3
    assert delta("intellectra_intake_requests_total", integration="fake", outcome="signature_invalid") == 1
    assert delta("intellectra_intake_requests_total", integration="(unknown)", outcome="integration_not_found") == 1
    assert delta("intellectra_intake_events_total", integration="fake", outcome="stored") == 2
    assert delta("intellectra_intake_events_total", integration="fake", outcome="duplicate") == 1
    assert delta("intellectra_intake_seconds_count", integration="fake") == 4
    assert delta("intellectra_handler_outcomes_total", integration="fake", outcome="processed") == 2
    assert delta("intellectra_handler_seconds_count", integration="fake") == 2
    assert delta("intellectra_delivery_outcomes_total", integration="fake", outcome="delivered") == 2
    assert delta("intellectra_delivery_seconds_count", integration="fake") == 2
    assert delta("intellectra_delivery_seconds_bucket", integration="fake", le="+Inf") == 2
    assert len(receiver.requests) == 2


async def test_failures_and_retries_are_counted_as_such(served, receiver):
    fake, url = served
    fake.plugin.fail_times = 1
    receiver.script = [(500, {})]
    before = scrape(url)
    post(url, thing_paid("evt_1"))
    await fake.host.pipeline.run_once()  # the handler fails once: a retry later
    fake.host.clock.advance(3600)
    await fake.host.pipeline.run_once()  # handled; its delivery answers 500: a retry later
    after = scrape(url)
    assert value(after, "intellectra_handler_outcomes_total", integration="fake", outcome="retry") - value(
        before, "intellectra_handler_outcomes_total", integration="fake", outcome="retry") == 1
    assert value(after, "intellectra_delivery_outcomes_total", integration="fake", outcome="retry") - value(
        before, "intellectra_delivery_outcomes_total", integration="fake", outcome="retry") == 1


def test_the_backlog_gauges_come_from_the_database(served, clock):
    fake, url = served
    idle = scrape(url)
    assert value(idle, "intellectra_database_up") == 1
    for name in ("events_pending", "events_failed", "events_oldest_pending_age_seconds", "events_due_lag_seconds",
                 "deliveries_pending", "deliveries_dead", "deliveries_oldest_pending_age_seconds",
                 "deliveries_due_lag_seconds"):
        assert value(idle, f"intellectra_{name}") == 0, name

    post(url, thing_paid("evt_1"))
    post(url, thing_paid("evt_2"))
    clock.advance(90)
    waiting = scrape(url)
    assert value(waiting, "intellectra_events_pending") == 2
    assert value(waiting, "intellectra_events_oldest_pending_age_seconds") == 90
    assert value(waiting, "intellectra_events_due_lag_seconds") == 90

    fake.host.pipeline.processor.drain()
    clock.advance(30)
    handed_on = scrape(url)
    assert value(handed_on, "intellectra_events_pending") == 0
    assert value(handed_on, "intellectra_deliveries_pending") == 2
    assert value(handed_on, "intellectra_deliveries_oldest_pending_age_seconds") == 30
    assert value(handed_on, "intellectra_deliveries_due_lag_seconds") == 30
