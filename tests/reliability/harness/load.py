"""Sending signed events the way Stripe does: concurrently, retrying until a 2xx, some twice.

A share of the events is sent twice: half of those as a *pair* — two requests released at the same
moment to two different ``serve`` processes — and half as a *late duplicate*, re-sent to another
process after the first answer. A request that fails (connection reset by a killed process, 503 from
a store that is down, any 5xx) is retried against the next process after a short pause, like
Stripe's retries; a 4xx is never retried and is recorded as a refusal (the tests expect none).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence

import attrs
import httpx

from harness.stripe_events import SignedEvent

SINGLE, PAIR, LATE = "single", "pair", "late"


@attrs.define
class LoadReport:
    """What the sender saw; ``answers`` counts HTTP status codes of every attempt."""

    events: int = 0
    requests: int = 0
    pairs: int = 0
    late_duplicates: int = 0
    answers: Counter[int] = attrs.field(factory=Counter)
    connection_errors: int = 0
    received: int = 0
    """Sum of ``received`` in 2xx answers: events the host said it stored new."""
    duplicates: int = 0
    """Sum of ``duplicates`` in 2xx answers."""
    refused: list[tuple[str, int, str]] = attrs.field(factory=list)
    gave_up: list[str] = attrs.field(factory=list)
    done: int = 0
    """Jobs finished so far (chaos is timed by the load's progress, not by the clock)."""
    pair_receivers: Counter[int] = attrs.field(factory=Counter)
    """For each concurrent pair: how many of its two answers said ``received: 1`` (must be exactly 1)."""
    seconds: float = 0.0

    @property
    def retried(self) -> int:
        return self.requests - self.events - self.pairs - self.late_duplicates


def plan(events: Sequence[SignedEvent], duplicate_share: float, seed: int = 7) -> list[tuple[str, SignedEvent]]:
    """Which events go once, as a concurrent pair, or once more later (deterministic per seed)."""
    rng = random.Random(seed)
    chosen = set(rng.sample(range(len(events)), round(len(events) * duplicate_share)))
    jobs = []
    for i, event in enumerate(events):
        kind = SINGLE if i not in chosen else (PAIR if rng.random() < 0.5 else LATE)
        jobs.append((kind, event))
    return jobs


class Sender:
    def __init__(self, urls: Callable[[], Sequence[str]], secret: str, *, in_flight: int = 24,
                 give_up_after: float = 180.0, path: str = "/webhooks/stripe_connect") -> None:
        self.urls = urls
        self.secret = secret
        self.in_flight = in_flight
        self.give_up_after = give_up_after
        self.path = path
        self.report = LoadReport()
        self.in_flight_by_url: Counter[str] = Counter()
        self._turn = 0

    def _next_url(self, avoid: str | None = None) -> str:
        urls = list(self.urls())
        self._turn += 1
        url = urls[self._turn % len(urls)]
        if url == avoid and len(urls) > 1:
            url = urls[(self._turn + 1) % len(urls)]
        return url

    async def send_until_stored(self, client: httpx.AsyncClient, event: SignedEvent, *, url: str | None = None,
                                start: asyncio.Event | None = None) -> tuple[str, int]:
        """POST until a 2xx (or a 4xx, which is final); returns the URL and ``received`` of the answer."""
        url = url or self._next_url()
        deadline = time.monotonic() + self.give_up_after
        pause = 0.05
        first = True
        while True:
            if first and start is not None:
                await start.wait()
            first = False
            self.report.requests += 1
            self.in_flight_by_url[url] += 1
            try:
                answer = await client.post(url + self.path, content=event.body, headers=event.headers(self.secret))
            except httpx.HTTPError:
                self.report.connection_errors += 1
                answer = None
            finally:
                self.in_flight_by_url[url] -= 1
            if answer is not None:
                self.report.answers[answer.status_code] += 1
                if answer.is_success:
                    body = answer.json()
                    self.report.received += int(body.get("received", 0))
                    self.report.duplicates += int(body.get("duplicates", 0))
                    return url, int(body.get("received", 0))
                if 400 <= answer.status_code < 500:
                    self.report.refused.append((event.event_id, answer.status_code, answer.text[:300]))
                    return url, 0
            if time.monotonic() > deadline:
                self.report.gave_up.append(event.event_id)
                return url, 0
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)
            url = self._next_url(avoid=url)

    async def _job(self, client: httpx.AsyncClient, kind: str, event: SignedEvent, gate: asyncio.Semaphore) -> None:
        try:
            await self._send_job(client, kind, event, gate)
        finally:
            self.report.done += 1

    async def _send_job(self, client: httpx.AsyncClient, kind: str, event: SignedEvent,
                        gate: asyncio.Semaphore) -> None:
        async with gate:
            if kind == PAIR:
                start = asyncio.Event()
                first_url = self._next_url()
                second_url = self._next_url(avoid=first_url)
                both = asyncio.gather(self.send_until_stored(client, event, url=first_url, start=start),
                                      self.send_until_stored(client, event, url=second_url, start=start))
                await asyncio.sleep(0)
                start.set()  # both requests leave together, to two different processes
                results = await both
                self.report.pairs += 1
                self.report.pair_receivers[sum(received for _, received in results)] += 1
                return
            url, _ = await self.send_until_stored(client, event)
            if kind == LATE:
                self.report.late_duplicates += 1
                await self.send_until_stored(client, event, url=self._next_url(avoid=url))

    async def run(self, jobs: Sequence[tuple[str, SignedEvent]]) -> LoadReport:
        started = time.monotonic()
        self.report.events = len(jobs)
        gate = asyncio.Semaphore(self.in_flight)
        limits = httpx.Limits(max_connections=self.in_flight * 2, max_keepalive_connections=self.in_flight * 2)
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0), limits=limits,
                                     trust_env=False) as client:
            await asyncio.gather(*(self._job(client, kind, event, gate) for kind, event in jobs))
        self.report.seconds = time.monotonic() - started
        return self.report
