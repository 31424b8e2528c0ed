"""What operators see of observers: outcome counters, the time plugins take, backlog gauges from the
database (``GET /metrics``), and one span per plugin's turn linked to its domain event."""

from __future__ import annotations

import pytest
from notifier import MEMBER, Notifier
from opentelemetry.trace import StatusCode
from test_pipeline_metrics import TOKEN, scrape, value

from core.web.app import create_app


@pytest.fixture
def site(make_host, live_server):
    plugin = Notifier()
    host = make_host(plugins={"notifier": plugin}, settings={"metrics_token": TOKEN})
    tenant, _ = host.tenants.create("Site")
    host.connect(tenant, "notifier", {})
    return host, tenant, plugin, live_server(create_app(host))


def test_observer_outcomes_and_backlog_are_on_metrics(site, clock):
    host, tenant, plugin, url = site
    host.pipeline.configure(max_attempts=1)
    before = scrape(url)
    host.emit(tenant.id, "member.created", MEMBER)
    host.emit(tenant.id, "member.created", MEMBER)
    clock.advance(45)
    waiting = scrape(url)
    assert value(waiting, "intellectra_observations_pending") == 2
    assert value(waiting, "intellectra_observations_oldest_pending_age_seconds") == 45
    assert value(waiting, "intellectra_observations_due_lag_seconds") == 45

    assert host.pipeline.observer.run_batch(limit=1).observed == 1
    plugin.fail_with = RuntimeError("the CRM is down")
    assert host.pipeline.observer.run_batch().failed == 1
    after = scrape(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("intellectra_observer_outcomes_total", integration="notifier", outcome="observed") == 1
    assert delta("intellectra_observer_outcomes_total", integration="notifier", outcome="failed") == 1
    assert delta("intellectra_observer_seconds_count", integration="notifier") == 2
    assert value(after, "intellectra_observations_pending") == 0
    assert value(after, "intellectra_observations_failed") == 1


def test_each_plugins_turn_is_a_span_linked_to_its_domain_event(site, spans):
    host, tenant, plugin, _ = site
    event = host.emit(tenant.id, "member.created", MEMBER)
    host.pipeline.observer.drain()
    plugin.fail_with = RuntimeError("the CRM is down")
    host.emit(tenant.id, "member.created", MEMBER)
    host.pipeline.observer.drain()

    observed, retried = (s for s in spans.get_finished_spans() if s.name == "intellectra.observe")
    assert observed.attributes["intellectra.domain_event.id"] == event.id
    assert observed.attributes["intellectra.integration"] == "notifier"
    assert observed.attributes["intellectra.outcome"] == "observed"
    assert retried.attributes["intellectra.outcome"] == "retry"
    assert retried.status.status_code is StatusCode.ERROR and "the CRM is down" in retried.status.description
