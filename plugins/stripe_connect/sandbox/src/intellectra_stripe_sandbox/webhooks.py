"""Sends events to webhook endpoints, signed as Stripe signs them, from background threads.

Requests never wait for delivery: ``dispatch`` queues a job and returns. A scheduler thread hands due jobs to a
small pool; a non-2xx answer or a connection error is retried after the delays in ``retry_schedule``. Tests
use ``resend`` (optionally concurrent) to provoke duplicate delivery, and read ``Sandbox.attempts``.
"""

from __future__ import annotations

import contextlib
import heapq
import hmac
import itertools
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from hashlib import sha256
from typing import Any, Protocol

import httpx
from attrs import define


@define
class WebhookEndpoint:
    """Where events are POSTed; ``connect`` endpoints get connected accounts' events (``event.account``)."""

    id: str
    url: str
    secret: str
    connect: bool = True


@define
class DeliveryAttempt:
    event_id: str
    endpoint_id: str
    url: str
    attempt: int
    trigger: str  # "initial" | "retry" | "resend"
    at: float
    status_code: int | None = None
    error: str | None = None
    succeeded: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event_id,
            "endpoint": self.endpoint_id,
            "url": self.url,
            "attempt": self.attempt,
            "trigger": self.trigger,
            "at": self.at,
            "status_code": self.status_code,
            "error": self.error,
            "succeeded": self.succeeded,
        }


class StoredEvent(Protocol):
    @property
    def obj(self) -> dict[str, Any]: ...


class World(Protocol):
    """What the sender reads and records of the sandbox (``state.Sandbox``), under its lock."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def webhook_timeout(self) -> float: ...

    @property
    def retry_schedule(self) -> Sequence[float]: ...

    @property
    def attempts(self) -> list[DeliveryAttempt]: ...

    @property
    def events(self) -> Sequence[StoredEvent]: ...

    def now_float(self) -> float: ...

    def now(self) -> int: ...


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@define
class _Job:
    event_id: str
    body: str
    endpoint: WebhookEndpoint
    attempt: int
    trigger: str
    retry: bool = True


class WebhookSender:
    """Scheduler plus worker pool; started on first use, stopped by ``Sandbox.close``."""

    def __init__(self, sandbox: World) -> None:
        self.sandbox = sandbox
        self._heap: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._stopped = False
        self._delivered: set[tuple[str, str]] = set()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        with self._cond:
            if self._thread is not None or self._stopped:
                return
            self._client = httpx.Client(timeout=self.sandbox.webhook_timeout)
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="stripe-sandbox-webhook")
            self._thread = threading.Thread(target=self._run, name="stripe-sandbox-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    # -- scheduling ------------------------------------------------------------------------------------------
    def dispatch(self, event_id: str, body: str, endpoints: list[WebhookEndpoint]) -> None:
        """Queue the first delivery of a new event to each endpoint."""
        for endpoint in endpoints:
            self._schedule(0.0, _Job(event_id, body, endpoint, 1, "initial"))

    def resend(self, event_id: str, body: str, endpoints: list[WebhookEndpoint], times: int, concurrent: bool) -> None:
        """Deliver the same event again ``times`` times per endpoint (all at once when ``concurrent``)."""
        self._ensure_started()
        if concurrent:
            barrier = threading.Barrier(times * len(endpoints)) if endpoints else None
            for endpoint in endpoints:
                for _ in range(times):
                    job = _Job(event_id, body, endpoint, 1, "resend", retry=False)
                    threading.Thread(target=self._deliver_after, args=(barrier, job), daemon=True).start()
        else:
            for endpoint in endpoints:
                jobs = [_Job(event_id, body, endpoint, 1, "resend", retry=False) for _ in range(times)]
                threading.Thread(target=self._deliver_all, args=(jobs,), daemon=True).start()

    def _schedule(self, delay: float, job: _Job) -> None:
        self._ensure_started()
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            assert self._pool is not None
            try:
                self._pool.submit(self._deliver, job)
            except RuntimeError:  # pool shut down while stopping
                return

    def _deliver_after(self, barrier: threading.Barrier | None, job: _Job) -> None:
        if barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
        self._deliver(job)

    def _deliver_all(self, jobs: list[_Job]) -> None:
        for job in jobs:
            self._deliver(job)

    # -- delivery --------------------------------------------------------------------------------------------
    def _deliver(self, job: _Job) -> None:
        sandbox = self.sandbox
        if self._stopped or self._client is None:
            return
        attempt = DeliveryAttempt(
            event_id=job.event_id,
            endpoint_id=job.endpoint.id,
            url=job.endpoint.url,
            attempt=job.attempt,
            trigger=job.trigger,
            at=sandbox.now_float(),
        )
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(job.body, job.endpoint.secret, sandbox.now()),
        }
        try:
            response = self._client.post(job.endpoint.url, content=job.body.encode(), headers=headers)
            attempt.status_code = response.status_code
            attempt.succeeded = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        except RuntimeError as exc:  # client closed during shutdown
            attempt.error = str(exc)
        with sandbox.lock:
            sandbox.attempts.append(attempt)
            if attempt.succeeded and (job.event_id, job.endpoint.id) not in self._delivered:
                self._delivered.add((job.event_id, job.endpoint.id))
                for stored in sandbox.events:
                    if stored.obj["id"] == job.event_id:
                        stored.obj["pending_webhooks"] = max(stored.obj["pending_webhooks"] - 1, 0)
        if not attempt.succeeded and job.retry and job.attempt <= len(sandbox.retry_schedule):
            delay = sandbox.retry_schedule[job.attempt - 1]
            self._schedule(delay, _Job(job.event_id, job.body, job.endpoint, job.attempt + 1, "retry"))
