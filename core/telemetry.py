"""Metrics and traces of the event pipeline, kept here so each stage's code carries one line for them.

**Metrics** are prometheus_client counters and histograms (``GET /metrics``, :mod:`core.web.metrics`).
With ``PROMETHEUS_MULTIPROC_DIR`` set, every process on the machine (``serve``, ``worker``) writes its
values to files there and ``/metrics`` adds them up; without it, ``/metrics`` shows its own process.

**Traces** go through ``opentelemetry-api``: every span is a no-op until the operator installs and
configures an SDK. One span per stage, each carrying the ids that link the stages of one event:

    intellectra.intake        intellectra.integration, intellectra.inbound_event.ids (the events stored)
    intellectra.handle_event  intellectra.inbound_event.id, intellectra.event.type, intellectra.outcome
    intellectra.observe       intellectra.observation.id, intellectra.domain_event.id, intellectra.outcome
    intellectra.deliver       intellectra.delivery.id, intellectra.domain_event.id, intellectra.inbound_event.id

A stage runs in another process than the one before (a worker handles what ``serve`` stored), so
the ids, not a parent span, are what ties a trace together.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode
from prometheus_client import CollectorRegistry, Counter, Histogram

if TYPE_CHECKING:
    from core.models import Tenant
    from core.plugins import PluginHost

TRACER = "intellectra"
UNKNOWN = "(unknown)"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's metrics (``/metrics`` reads the multiprocess files instead when they are configured)."""

INTAKE_REQUESTS = Counter("intellectra_intake_requests", "Webhook requests by integration and outcome: "
                          "accepted, or the refusal's code (signature_invalid, store_unavailable...)",
                          ["integration", "outcome"], registry=REGISTRY)
INTAKE_EVENTS = Counter("intellectra_intake_events", "Events in accepted webhook requests: stored or duplicate",
                        ["integration", "outcome"], registry=REGISTRY)
INTAKE_SECONDS = Histogram("intellectra_intake_seconds", "Time to verify, store and answer a webhook request",
                           ["integration"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
HANDLED = Counter("intellectra_handler_outcomes", "Inbound events handled, by integration and outcome: processed, "
                  "ignored, retry or failed", ["integration", "outcome"], registry=REGISTRY)
HANDLING_SECONDS = Histogram("intellectra_handler_seconds", "Time an integration's handle_event took",
                             ["integration"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
OBSERVED = Counter("intellectra_observer_outcomes", "Observations by observing plugin and outcome: observed, "
                   "skipped, retry or failed", ["integration", "outcome"], registry=REGISTRY)
OBSERVING_SECONDS = Histogram("intellectra_observer_seconds", "Time a plugin's on_domain_event took",
                              ["integration"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
DELIVERIES = Counter("intellectra_delivery_outcomes", "Delivery attempts by integration and outcome: delivered, "
                     "retry, dead or cancelled", ["integration", "outcome"], registry=REGISTRY)
DELIVERY_SECONDS = Histogram("intellectra_delivery_seconds", "Time one delivery attempt took (POST and answer)",
                             ["integration"], buckets=LATENCY_BUCKETS, registry=REGISTRY)

DELIVERY_OUTCOME = {"delivered": "delivered", "pending": "retry", "dead": "dead", "cancelled": "cancelled"}

F = TypeVar("F", bound=Callable[..., Any])


# What each stage's span reads of the stage's own results (the pipeline's classes have these fields).

class _HostWithPlugins(Protocol):
    @property
    def plugins(self) -> PluginHost: ...


class Intake(Protocol):
    @property
    def host(self) -> _HostWithPlugins: ...


class IntakeResult(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def status_code(self) -> int: ...

    @property
    def body(self) -> dict[str, Any]: ...


class Handled(Protocol):
    @property
    def outcome(self) -> str: ...

    @property
    def tenant(self) -> Tenant | None: ...

    @property
    def error(self) -> str | None: ...


class Claimed(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def domain_event_id(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def integration(self) -> str: ...

    @property
    def event_type(self) -> str: ...

    @property
    def attempts(self) -> int: ...


class Outcome(Protocol):
    @property
    def outcome(self) -> str: ...

    @property
    def ran(self) -> bool: ...

    @property
    def error(self) -> str | None: ...


class Attempt(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def status_code(self) -> int | None: ...

    @property
    def error(self) -> str | None: ...


HandledT = TypeVar("HandledT", bound=Handled)
OutcomeT = TypeVar("OutcomeT", bound=Outcome)
AttemptT = TypeVar("AttemptT", bound=Attempt)


def tracer() -> trace.Tracer:
    """Looked up per span (a few µs), so an SDK configured after import, or swapped in tests, is used."""
    return trace.get_tracer(TRACER)


def tracing_enabled() -> bool:
    """Whether spans are recorded: an SDK is configured (extra work for span attributes only then)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


# ---------------------------------------------------------------------------------------------- intake

def traced_intake(receive: F) -> F:
    """Wraps ``Intake.receive`` / ``receive_sync``: a span, the latency and the outcome of each request.

    Without a tracing SDK there is no span to record, so none is started (the no-op span's context
    handling cost several µs a request); the metrics are counted either way.
    """
    if inspect.iscoroutinefunction(receive):
        @functools.wraps(receive)
        async def receive_async(intake: Intake, integration: str, *args: Any, **kwargs: Any) -> Any:
            name = _known(intake, integration)
            started = time.perf_counter()
            if not tracing_enabled():
                return _count_intake(name, started, await receive(intake, integration, *args, **kwargs))
            with _intake_span(name) as span:
                return _count_intake(name, started, await receive(intake, integration, *args, **kwargs), span)

        return receive_async  # type: ignore[return-value]

    @functools.wraps(receive)
    def receive_sync(intake: Intake, integration: str, *args: Any, **kwargs: Any) -> Any:
        name = _known(intake, integration)
        started = time.perf_counter()
        if not tracing_enabled():
            return _count_intake(name, started, receive(intake, integration, *args, **kwargs))
        with _intake_span(name) as span:
            return _count_intake(name, started, receive(intake, integration, *args, **kwargs), span)

    return receive_sync  # type: ignore[return-value]


def _intake_span(integration: str) -> AbstractContextManager[Span]:
    return tracer().start_as_current_span("intellectra.intake", kind=SpanKind.SERVER,
                                          attributes={"intellectra.integration": integration})


@attrs.frozen
class _IntakeSeries:
    """One integration's intake series, looked up once (a ``labels()`` call takes a lock and hashes the labels)."""

    seconds: Any
    accepted: Any
    stored: Any
    duplicate: Any


_INTAKE_SERIES: dict[str, _IntakeSeries] = {}


def _intake_series(integration: str) -> _IntakeSeries:
    series = _INTAKE_SERIES.get(integration)
    if series is None:  # bounded: ``integration`` is a loaded integration's name or UNKNOWN (``_known``)
        series = _INTAKE_SERIES[integration] = _IntakeSeries(
            seconds=INTAKE_SECONDS.labels(integration), accepted=INTAKE_REQUESTS.labels(integration, "accepted"),
            stored=INTAKE_EVENTS.labels(integration, "stored"),
            duplicate=INTAKE_EVENTS.labels(integration, "duplicate"))
    return series


def _count_intake(integration: str, started: float, result: IntakeResult, span: Span | None = None) -> IntakeResult:
    series = _intake_series(integration)
    series.seconds.observe(time.perf_counter() - started)
    if result.ok:
        series.accepted.inc()
        series.stored.inc(result.body.get("received", 0))
        series.duplicate.inc(result.body.get("duplicates", 0))
    else:
        code = str(result.body.get("error", {}).get("code", "error"))
        INTAKE_REQUESTS.labels(integration, code).inc()
        if span is not None:
            span.set_status(StatusCode.ERROR, code)
    if span is not None:
        span.set_attribute("http.response.status_code", result.status_code)
    return result


def note_stored(rows: Sequence[Mapping[str, Any]], inserted: set[str]) -> None:
    """On the intake span: the ids of the inbound events this request stored (duplicates left out)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("intellectra.inbound_event.ids", [r["id"] for r in rows if r["id"] in inserted])


def _known(intake: Intake, integration: str) -> str:
    """The label for ``integration``: a name anyone can POST to must not grow the metrics without bound."""
    record = intake.host.plugins.records.get(integration)
    return integration if record is not None and not record.builtin else UNKNOWN


# ---------------------------------------------------------------------------------------------- handling

def traced_handling(event: Any, handle: Callable[[], HandledT]) -> HandledT:
    """Run one event's handler (``handle``) in a span; count its outcome and time it."""
    started = time.perf_counter()
    attributes = {"intellectra.integration": event.integration, "intellectra.inbound_event.id": event.id,
                  "intellectra.event.type": event.type, "intellectra.attempt": event.attempts}
    with tracer().start_as_current_span("intellectra.handle_event", kind=SpanKind.CONSUMER,
                                        attributes=attributes) as span:
        handled = handle()
        HANDLING_SECONDS.labels(event.integration).observe(time.perf_counter() - started)
        HANDLED.labels(event.integration, handled.outcome).inc()
        span.set_attribute("intellectra.outcome", handled.outcome)
        if handled.tenant is not None:
            span.set_attribute("intellectra.tenant.id", handled.tenant.id)
        if handled.outcome in ("retry", "failed"):
            span.set_status(StatusCode.ERROR, handled.error or handled.outcome)
        return handled


# ---------------------------------------------------------------------------------------------- observing

def traced_observation(observation: Claimed, observe: Callable[[], OutcomeT]) -> OutcomeT:
    """Run one plugin's turn at one domain event (``observe``) in a span; count its outcome and time it."""
    started = time.perf_counter()
    attributes: dict[str, str | int] = {
        "intellectra.integration": observation.integration, "intellectra.observation.id": observation.id,
        "intellectra.domain_event.id": observation.domain_event_id, "intellectra.event.type": observation.event_type,
        "intellectra.tenant.id": observation.tenant_id, "intellectra.attempt": observation.attempts}
    with tracer().start_as_current_span("intellectra.observe", kind=SpanKind.CONSUMER,
                                        attributes=attributes) as span:
        outcome = observe()
        if outcome.ran:
            OBSERVING_SECONDS.labels(observation.integration).observe(time.perf_counter() - started)
        OBSERVED.labels(observation.integration, outcome.outcome).inc()
        span.set_attribute("intellectra.outcome", outcome.outcome)
        if outcome.outcome in ("retry", "failed"):
            span.set_status(StatusCode.ERROR, outcome.error or outcome.outcome)
        return outcome


# ---------------------------------------------------------------------------------------------- delivery

async def inbound_ids_for(host: Any, rows: Sequence[Any]) -> dict[str, str]:
    """``{domain event id: inbound event id}`` for a batch's deliveries; asked (off the event loop) only
    while tracing is on, so an untraced host pays nothing for it."""
    wanted = sorted({r.domain_event_id for r in rows if r.domain_event_id})
    if not wanted or not tracing_enabled():
        return {}

    def query() -> dict[str, str]:
        from sqlalchemy import select

        from core.store.tables import domain_events

        with host.store.read() as c:
            return {r.id: r.inbound_event_id for r in c.execute(
                select(domain_events.c.id, domain_events.c.inbound_event_id).where(domain_events.c.id.in_(wanted)))
                if r.inbound_event_id}

    return await asyncio.to_thread(query)


async def traced_delivery(row: Any, inbound_ids: Mapping[str, str],
                          send: Callable[[], Awaitable[AttemptT]]) -> AttemptT:
    """Run one delivery attempt (``send``) in a span; count its outcome and time it.

    Without a tracing SDK no span is started (the no-op span's context handling cost ~15 µs a delivery)."""
    started = time.perf_counter()
    if not tracing_enabled():
        attempt = await send()
        _count_delivery(row.integration, started, attempt)
        return attempt
    attributes: dict[str, Any] = {"intellectra.integration": row.integration, "intellectra.delivery.id": row.id,
                                  "intellectra.event.type": row.event_type, "intellectra.tenant.id": row.tenant_id,
                                  "intellectra.attempt": row.attempts + 1}
    if row.domain_event_id:
        attributes["intellectra.domain_event.id"] = row.domain_event_id
        if row.domain_event_id in inbound_ids:
            attributes["intellectra.inbound_event.id"] = inbound_ids[row.domain_event_id]
    span: Span
    with tracer().start_as_current_span("intellectra.deliver", kind=SpanKind.PRODUCER,
                                        attributes=attributes) as span:
        attempt = await send()
        outcome = _count_delivery(row.integration, started, attempt)
        span.set_attribute("intellectra.outcome", outcome)
        if attempt.status_code is not None:
            span.set_attribute("http.response.status_code", attempt.status_code)
        if outcome in ("retry", "dead"):
            span.set_status(StatusCode.ERROR, attempt.error or outcome)
        return attempt


def _count_delivery(integration: str, started: float, attempt: Attempt) -> str:
    outcome = DELIVERY_OUTCOME.get(attempt.status, attempt.status)
    _series(DELIVERY_SECONDS, integration).observe(time.perf_counter() - started)
    _series(DELIVERIES, integration, outcome).inc()
    return outcome


_SERIES: dict[tuple[Any, ...], Any] = {}


def _series(metric: Counter | Histogram, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once: ``labels()`` takes a lock and hashes the labels every call.
    Bounded as the metric's own children are (each labels combination is kept by the metric anyway)."""
    key = (metric, *labels)
    child = _SERIES.get(key)
    if child is None:
        child = _SERIES[key] = metric.labels(*labels)
    return child
