"""``GET /metrics``: Prometheus' text format, for a scraper holding ``INTELLECTRA_METRICS_TOKEN``.

Off (404) until the token is set; a request without it, or with another, gets 401. The answer joins
two sources: the pipeline's counters and histograms (:mod:`core.telemetry`; from every process on the
machine when ``PROMETHEUS_MULTIPROC_DIR`` is set) and the backlog, read from the database at scrape
time, so it is the same whichever process answers: pending and failed events and observations, pending
and dead deliveries, how old the oldest pending one is and how long the oldest due one has waited for a
worker. Each of those is one aggregate over an index (``status`` leads every index they use).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Table, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.redact import register_secret
from core.store.tables import deliveries, inbound_events, observations
from core.telemetry import REGISTRY
from core.web.identity import host_of

if TYPE_CHECKING:
    from core.host import Host

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


async def metrics(request: Request) -> Response:
    host = host_of(request)
    token = host.settings.metrics_token
    if not token:
        return JSONResponse({"error": {"code": "metrics_disabled", "message": (
            "Metrics are off on this host; the operator turns them on by setting INTELLECTRA_METRICS_TOKEN.")}},
            status_code=404)
    register_secret(token)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return JSONResponse({"error": {"code": "unauthorized", "message": (
            "Send the metrics token as `Authorization: Bearer <INTELLECTRA_METRICS_TOKEN>`.")}},
            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = await run_in_threadpool(render, host)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def render(host: Host) -> bytes:
    """The whole exposition: process (or every process's) metrics, then the backlog from the database."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(Backlog(host))
    return generate_latest(registry)


class _Forward(Collector):
    """This process's registry, read through the scrape's registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


class Backlog(Collector):
    """Gauges queried from the database at scrape time (what every process shares)."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("intellectra_database_up", "Whether the database answered this scrape (1) or not (0)")
        try:
            facts = self._query()
        except Exception:  # the scrape still answers: the database being down is what it reports
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for name, help_text, value in facts:
            gauge = GaugeMetricFamily(name, help_text)
            gauge.add_metric([], value)
            yield gauge

    def _query(self) -> list[tuple[str, str, float]]:
        now = self.host.clock.now()
        with self.host.store.read() as c:
            events = _queue(c, inbound_events, inbound_events.c.received_at, now, stuck="failed")
            sends = _queue(c, deliveries, deliveries.c.created_at, now, stuck="dead")
            turns = _queue(c, observations, observations.c.created_at, now, stuck="failed")
        return [
            ("intellectra_events_pending", "Inbound events not handled yet (due or waiting for a retry)",
             events["pending"]),
            ("intellectra_events_failed", "Inbound events whose handler gave up (replay them)", events["stuck"]),
            ("intellectra_events_oldest_pending_age_seconds", "Age of the oldest pending inbound event "
             "(0 when none)", events["oldest"]),
            ("intellectra_events_due_lag_seconds", "How long the oldest due inbound event has waited for a worker "
             "(0 when none)", events["lag"]),
            ("intellectra_observations_pending", "Observing plugins' turns at domain events not taken yet (due or "
             "waiting for a retry)", turns["pending"]),
            ("intellectra_observations_failed", "Observations whose plugin gave up (replay them)", turns["stuck"]),
            ("intellectra_observations_oldest_pending_age_seconds", "Age of the oldest pending observation "
             "(0 when none)", turns["oldest"]),
            ("intellectra_observations_due_lag_seconds", "How long the oldest due observation has waited for a "
             "worker (0 when none)", turns["lag"]),
            ("intellectra_deliveries_pending", "Deliveries not sent yet (due or waiting for a retry)",
             sends["pending"]),
            ("intellectra_deliveries_dead", "Deliveries that gave up (retry them)", sends["stuck"]),
            ("intellectra_deliveries_oldest_pending_age_seconds", "Age of the oldest pending delivery (0 when none)",
             sends["oldest"]),
            ("intellectra_deliveries_due_lag_seconds", "How long the oldest due delivery has waited for a worker "
             "(0 when none)", sends["lag"]),
        ]


def _queue(c: Any, table: Table, created: Any, now: datetime, *, stuck: str) -> dict[str, float]:
    status, due_at = table.c.status, table.c.next_attempt_at
    pending = c.execute(select(func.count()).select_from(table).where(status == "pending")).scalar_one()
    failed = c.execute(select(func.count()).select_from(table).where(status == stuck)).scalar_one()
    oldest = c.execute(select(func.min(created)).where(status == "pending")).scalar_one()
    first_due = c.execute(select(func.min(due_at)).where(status == "pending", due_at <= now)).scalar_one()
    return {"pending": pending, "stuck": failed, "oldest": _age(now, oldest), "lag": _age(now, first_due)}


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    return max(0.0, (now - _aware(then)).total_seconds())


def _aware(value: datetime) -> datetime:
    """UTC columns hold naive UTC; ``min()`` gives it back as the column type does (aware), kept either way."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
