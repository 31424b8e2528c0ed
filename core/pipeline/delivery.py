"""Delivery: outbox rows → signed POSTs to their targets, retried on a schedule until delivered or dead.

Per batch: claim due rows (one short transaction), POST them concurrently with one
``aiohttp.ClientSession`` (connections reused per target, every address checked at connection
time by :mod:`core.guarded_connector`, no redirects, no cookies, a hard per-request deadline), then
record every attempt in one transaction. Outcomes: 2xx ``delivered``; 410 ``cancelled`` and the subscription removed;
anything else (5xx, 429, 3xx, other 4xx, timeout, network error) waits for the next step of the
schedule — a 429 for its ``Retry-After`` when that is longer — and after the last one the row is ``dead`` — visible in
``deliveries list`` and re-queued by ``deliveries retry``. A ``Retry-After`` that asks to wait past the end of
the schedule (``retry_deadline``, fixed by the round's first failure) makes the row ``dead`` at once. Nothing
is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from core.errors import ValidationFailed
from core.guarded_connector import ForbiddenTargetAddress, guarded_connector
from core.pipeline.claims import claim_due, new_worker_id
from core.pipeline.retry_after import parse_retry_after
from core.pipeline.signing import Signer
from core.redact import redact, register_secret
from core.store.tables import deliveries
from core.targets import SendTimeGuard
from core.telemetry import inbound_ids_for, traced_delivery

if TYPE_CHECKING:
    from core.pipeline.ports import StageOwner

log = logging.getLogger("intellectra.pipeline.delivery")

DELIVERED, PENDING, DEAD, CANCELLED = "delivered", "pending", "dead", "cancelled"
SNIPPET = 200
REUSE_BODY_LIMIT = 64 * 1024  # an answer up to this size is read so its connection is reused; a bigger one closes it


@attrs.frozen(kw_only=True)
class Attempt:
    """The result of one POST: the status code (if any answer came) and what to record."""

    delivery_id: str
    status: str
    status_code: int | None
    error: str | None
    next_attempt_at: datetime
    tenant_id: str
    subscription_id: str | None
    retry_deadline: datetime | None = None


@attrs.define(kw_only=True)
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    lost: int = 0

    def add(self, other: DeliveryReport) -> None:
        for field in attrs.fields(DeliveryReport):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


class Deliverer:
    def __init__(self, pipeline: StageOwner, *, worker_id: str | None = None) -> None:
        self.pipeline = pipeline
        self.host = pipeline.host
        self.worker_id = worker_id or new_worker_id()
        self.signer = Signer(pipeline.host.secrets)
        self.guard = SendTimeGuard(allow_loopback=pipeline.host.settings.allow_loopback_targets)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[aiohttp.ClientSession]:
        """An HTTP client for a run of batches (connections to receivers are reused).

        No proxy from the environment, no cookie jar (one receiver's cookies never reach another).
        """
        config = self.pipeline.config
        connector = guarded_connector(allow_loopback=self.host.settings.allow_loopback_targets,
                                      limit=config.delivery_concurrency)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                                         timeout=aiohttp.ClientTimeout(total=config.delivery_timeout_seconds)
                                         ) as client:
            yield client

    # ------------------------------------------------------------------ driving
    async def run_batch(self, client: aiohttp.ClientSession, limit: int | None = None) -> DeliveryReport:
        rows = await asyncio.to_thread(self.claim, limit)
        if not rows:
            return DeliveryReport()
        attempts = await self.send(client, rows)
        report = await asyncio.to_thread(self.record, attempts)
        report.claimed = len(rows)
        return report

    async def drain(self, client: aiohttp.ClientSession | None = None, *,
                    stop: asyncio.Event | None = None) -> DeliveryReport:
        """Send batches until nothing is due (or ``stop`` is set: the batch in hand is finished first).

        The database's round trips overlap the network's: the next batch is claimed while one is being
        sent, and a batch is recorded while the next one is sent (bench/README.md). A claimed batch
        waits at most one batch's sending, well inside its lease.
        """
        total = DeliveryReport()
        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(self.client())
            recording: asyncio.Future[DeliveryReport] | None = None
            claiming: asyncio.Future[list[Any]] | None = asyncio.ensure_future(asyncio.to_thread(self.claim))
            try:
                while claiming is not None:
                    rows, claiming = await claiming, None
                    if not rows:
                        break
                    total.claimed += len(rows)
                    if stop is None or not stop.is_set():
                        claiming = asyncio.ensure_future(asyncio.to_thread(self.claim))
                    attempts = await self.send(client, rows)
                    if recording is not None:
                        done, recording = recording, None
                        total.add(await done)
                    recording = asyncio.ensure_future(asyncio.to_thread(self.record, attempts))
            finally:
                for pending in (recording, claiming):  # never left running unobserved (their rows are leased)
                    if pending is not None:
                        result = await pending
                        if isinstance(result, DeliveryReport):
                            total.add(result)
        return total

    # ------------------------------------------------------------------ steps
    def claim(self, limit: int | None = None) -> list[Any]:
        config = self.pipeline.config
        engine = self.host.store.engine
        with engine.begin() as c:
            return claim_due(c, engine, deliveries, worker_id=self.worker_id, now=self.host.clock.now(),
                             lease=timedelta(seconds=config.delivery_lease_seconds),
                             limit=limit or config.delivery_batch_size)

    async def send(self, client: aiohttp.ClientSession, rows: Sequence[Any]) -> list[Attempt]:
        gate = asyncio.Semaphore(self.pipeline.config.delivery_concurrency)
        inbound_ids = await inbound_ids_for(self.host, rows)

        async def one(row: Any) -> Attempt:
            async with gate:
                return await traced_delivery(row, inbound_ids, lambda: self._post(client, row))

        return list(await asyncio.gather(*(one(r) for r in rows)))

    async def _post(self, client: aiohttp.ClientSession, row: Any) -> Attempt:
        timeout = self.pipeline.config.delivery_timeout_seconds
        code: int | None = None
        retry_after: str | None = None
        snippet = ""
        try:
            headers = self.signer.headers(row.id, row.payload, row.secret)
            if row.target_url_secret:
                url = self.host.secrets.decrypt(row.target_url_secret)
                register_secret(url)  # a credential: redacted from any log line that shows it
            else:
                url = row.target_url
            await self.guard.check(url)
            async with asyncio.timeout(timeout), client.post(url, data=row.payload.encode(), headers=headers,
                                                             allow_redirects=False) as response:
                code = response.status
                retry_after = response.headers.get("retry-after")
                body = await _read_bounded(response)
                if not 200 <= code < 300:
                    snippet = _snippet(body)
        except TimeoutError:  # asyncio's deadline, and aiohttp's own timeouts (subclasses)
            return self._outcome(row, None, f"No answer within {timeout:g} s (timed out).", None)
        except aiohttp.ClientError as exc:
            if isinstance(exc.__cause__, ForbiddenTargetAddress):  # checked at connect time: retried, never sent
                return self._outcome(row, None, f"Not sent: {exc.__cause__}", None)
            return self._outcome(row, None, f"Could not reach the target: {_network_error(exc, url)}.", None)
        except ValidationFailed as exc:  # the target resolves to a forbidden address now: retried, never sent
            return self._outcome(row, None, f"Not sent: {exc.message}", None)
        except Exception as exc:  # e.g. a secret that no key opens: record it, never lose the row
            return self._outcome(row, None, f"Could not send: {redact(str(exc)) or exc.__class__.__name__}", None)
        return self._outcome(row, code, snippet, retry_after)

    def _outcome(self, row: Any, code: int | None, detail: str, retry_after: str | None) -> Attempt:
        now = self.host.clock.now()
        config = self.pipeline.config
        attempts = row.attempts + 1

        # The round's first failure fixes when it gives up: the schedule's remaining steps from now.
        deadline = row.retry_deadline or now + timedelta(seconds=sum(config.delivery_schedule[attempts - 1:]))

        def make(status: str, error: str | None, next_at: datetime = now) -> Attempt:
            return Attempt(delivery_id=row.id, status=status, status_code=code, error=error, next_attempt_at=next_at,
                           tenant_id=row.tenant_id, subscription_id=row.subscription_id, retry_deadline=deadline)

        if code is not None and 200 <= code < 300:
            return make(DELIVERED, None)
        if code == 410:
            return make(CANCELLED, "The target answered 410 Gone, so its subscription was removed and the "
                                   "delivery will not be retried.")
        error = detail if code is None else f"The target answered {code}" + (f": {detail}" if detail else ".")
        # A 429 is an attempt like any other failure: it waits for its Retry-After or the schedule's next
        # step, whichever is longer, so a target that answers 429 for ever is dead when the schedule ends.
        if attempts > len(config.delivery_schedule):
            return make(DEAD, f"{error} Gave up after {attempts} attempts; re-queue it with "
                              "`intellectra-integrations deliveries retry`.")
        step = now + timedelta(seconds=config.delivery_schedule[attempts - 1])
        asked = parse_retry_after(retry_after, now) if code == 429 else None
        if asked is None or now + asked <= step:
            return make(PENDING, error, step)
        if now + asked > max(deadline, step):
            # Sending sooner would go against the target's answer, waiting longer would keep the row
            # pending past the schedule's end: it is dead now, and says so.
            return make(DEAD, f"{error} It asked to be sent again in {_duration(asked)} (Retry-After), after its "
                              f"retry schedule ends ({deadline:%Y-%m-%d %H:%M} UTC), so it was given up after "
                              f"{attempts} attempt(s); re-queue it with `intellectra-integrations deliveries retry` "
                              "once the target takes deliveries again.")
        return make(PENDING, error, now + asked)

    def record(self, attempts: Sequence[Attempt]) -> DeliveryReport:
        """Record every attempt in one transaction, then remove subscriptions that answered 410.

        Attempts with the same outcome are recorded by one UPDATE (a batch of 2xx answers is one
        statement), and only where this worker still holds the claim: a row whose lease ran out and
        went to another worker is left to it (``lost``).
        """
        engine = self.host.store.engine
        now = self.host.clock.now()
        outcomes: dict[tuple[str, int | None, str | None, datetime, datetime | None], list[Attempt]] = {}
        for a in attempts:  # only a retry's times matter; a finished row records when it finished
            retrying = a.status == PENDING
            outcomes.setdefault((a.status, a.status_code, a.error, a.next_attempt_at if retrying else now,
                                 a.retry_deadline if retrying else None), []).append(a)
        mine: list[Attempt] = []
        with engine.begin() as c:
            for (status, code, error, next_at, deadline), group in outcomes.items():
                stmt = (deliveries.update()
                        .where(deliveries.c.id.in_([a.delivery_id for a in group]),
                               deliveries.c.claimed_by == self.worker_id, deliveries.c.status == PENDING)
                        .values(status=status, attempts=deliveries.c.attempts + 1, last_status_code=code,
                                last_error=error, next_attempt_at=next_at,
                                delivered_at=now if status == DELIVERED else None, claimed_by=None,
                                claimed_until=None, **({"retry_deadline": deadline} if deadline else {}))
                        .returning(deliveries.c.id))
                ours = set(c.execute(stmt).scalars())
                mine.extend(a for a in group if a.delivery_id in ours)
        report = DeliveryReport(lost=len(attempts) - len(mine))
        for a in mine:
            name = {DELIVERED: "delivered", PENDING: "retried", DEAD: "dead", CANCELLED: "cancelled"}[a.status]
            setattr(report, name, getattr(report, name) + 1)
            if a.status != DELIVERED:
                log.warning("delivery %s: %s", a.delivery_id, a.error)
        for a in mine:
            if a.status == CANCELLED and a.subscription_id:
                self.host.subscriptions.unsubscribe(a.tenant_id, a.subscription_id)
                log.warning("subscription %s removed: its target answered 410 Gone", a.subscription_id)
        for name in ("delivered", "retried", "dead", "cancelled", "lost"):
            self.pipeline.counters.incr("delivery", name, by=getattr(report, name))
        return report


def _duration(wait: timedelta) -> str:
    seconds = int(wait.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}s"
    return f"{seconds} seconds"


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    """The answer's body, read so the connection goes back to the pool; past ``REUSE_BODY_LIMIT`` the
    connection is closed instead of reading on (a receiver cannot make the worker read a huge body)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > REUSE_BODY_LIMIT:
            response.close()
            break
    return b"".join(chunks)


def _snippet(body: bytes) -> str:
    """The start of an error answer, for ``last_error`` (never the whole body)."""
    text = body[:SNIPPET].decode("utf-8", "replace").strip()
    return redact(" ".join(text.split()))


def _network_error(exc: aiohttp.ClientError, url: str) -> str:
    """What went wrong, without the target URL (it can be a secret, e.g. a Slack webhook)."""
    text = str(exc) or exc.__class__.__name__
    return redact(text.replace(url, "<target>"))
