"""Faults injected while the load runs, timed by the load's progress (not the clock), so they land
while events are in flight however fast or slow the machine is.

* ``Crashes`` — SIGKILL a worker while it holds claims (mid-batch: its pid is in ``claimed_by`` of
  pending rows) and a ``serve`` process while the sender has requests open to it (mid-request), then
  restart each, as a supervisor would;
* ``Terminations`` — ``pg_terminate_backend`` every backend of the run's database.
"""

from __future__ import annotations

import asyncio
import time

import attrs
from sqlalchemy import Engine, func, or_, select

from core.store.tables import deliveries, inbound_events
from harness import postgres
from harness.load import Sender
from harness.processes import Fleet, ManagedProcess

WATCH_SECONDS = 30.0


async def _progress(sender: Sender, share: float) -> None:
    """Wait until ``share`` of the jobs are done (or the load ended)."""
    while sender.report.done < sender.report.events * share and sender.report.done < sender.report.events:
        await asyncio.sleep(0.05)


def claims_held_by(engine: Engine, pid: int) -> int:
    """Pending inbound events and deliveries that a process with ``pid`` has claimed right now."""
    mark = f"%:{pid}:%"
    with engine.connect() as c:
        events = c.execute(select(func.count()).select_from(inbound_events).where(
            inbound_events.c.status == "pending", inbound_events.c.claimed_by.like(mark))).scalar_one()
        sent = c.execute(select(func.count()).select_from(deliveries).where(
            deliveries.c.status == "pending", or_(deliveries.c.claimed_by.like(mark)))).scalar_one()
    return int(events) + int(sent)


@attrs.define
class CrashLog:
    workers_killed: int = 0
    workers_killed_holding_claims: int = 0
    claims_orphaned: int = 0
    serves_killed: int = 0
    serves_killed_with_open_requests: int = 0


@attrs.define
class Crashes:
    fleet: Fleet
    engine: Engine
    kills: int
    log: CrashLog = attrs.field(factory=CrashLog)

    async def __call__(self, sender: Sender) -> CrashLog:
        for k in range(self.kills):
            await _progress(sender, (k + 1) / (self.kills + 1))
            worker = self.fleet.workers[k % len(self.fleet.workers)]
            await asyncio.to_thread(self._kill_worker_mid_batch, worker)
            serve = self.fleet.serves[k % len(self.fleet.serves)]
            await self._kill_serve_mid_request(sender, serve)
        return self.log

    def _kill_worker_mid_batch(self, worker: ManagedProcess) -> None:
        deadline = time.monotonic() + WATCH_SECONDS
        held = 0
        while time.monotonic() < deadline:
            held = claims_held_by(self.engine, worker.pid)
            if held:
                break
            time.sleep(0.01)
        worker.kill()
        self.log.workers_killed += 1
        if held:
            self.log.workers_killed_holding_claims += 1
            self.log.claims_orphaned += held
        worker.start()
        worker.wait_ready()

    async def _kill_serve_mid_request(self, sender: Sender, serve: ManagedProcess) -> None:
        deadline = time.monotonic() + WATCH_SECONDS
        while sender.in_flight_by_url[serve.url] == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        open_requests = sender.in_flight_by_url[serve.url]
        serve.kill()
        self.log.serves_killed += 1
        if open_requests:
            self.log.serves_killed_with_open_requests += 1
        await asyncio.to_thread(self.fleet.restart, serve)


@attrs.define
class TerminationLog:
    rounds: int = 0
    backends_terminated: int = 0


@attrs.define
class Terminations:
    database: str
    rounds: int
    log: TerminationLog = attrs.field(factory=TerminationLog)

    async def __call__(self, sender: Sender) -> TerminationLog:
        for k in range(self.rounds):
            await _progress(sender, (k + 1) / (self.rounds + 1))
            killed = await asyncio.to_thread(postgres.terminate_backends, self.database)
            self.log.rounds += 1
            self.log.backends_terminated += killed
        return self.log
