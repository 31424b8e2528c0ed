"""A worker process killed with SIGKILL mid-batch loses nothing and applies nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from fakepay import FakePlugin, thing_paid
from sqlalchemy import func, select

from core.store.tables import domain_events, inbound_events

HERE = Path(__file__).parent
EVENTS = 120
LEASE = 1.0

WORKER = """
import asyncio, sys
from pathlib import Path
from fakepay import FakePlugin
from core.host import Host
from core.registry import RegistryConfig
from core.settings import Settings

host = Host.create(settings=Settings(database_url=sys.argv[1], throwaway_secret_key=True,
                                     registry_path=Path("/nonexistent/registry.toml")),
                   registry=RegistryConfig(), migrate=False)
plugin = FakePlugin()
plugin.delay = 0.04
host.plugins.register("fake", plugin)
host.pipeline.configure(batch_size=25, lease_seconds=float(sys.argv[2]))
asyncio.run(host.pipeline.run_workers(asyncio.Event()))
"""


def processed_count(host):
    with host.store.read() as c:
        return c.execute(select(func.count()).select_from(inbound_events).where(
            inbound_events.c.status == "processed")).scalar_one()


def claimed_count(host):
    with host.store.read() as c:
        return c.execute(select(func.count()).select_from(inbound_events).where(
            inbound_events.c.status == "pending", inbound_events.c.claimed_by.is_not(None))).scalar_one()


def mid_batch(host):
    """A batch was applied and the next one is claimed (each takes ~1 s: the handler sleeps)."""
    return processed_count(host) > 0 and claimed_count(host) > 0


def start_worker(url):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", WORKER, url, str(LEASE)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until(condition, *, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_loses_nothing_and_applies_each_event_once(fake, make_host,
                                                                              intellectra_database_url):
    for i in range(EVENTS):
        fake.receive(thing_paid(f"evt_{i}"))
    worker = start_worker(intellectra_database_url)
    try:
        wait_until(lambda: mid_batch(fake.host) or worker.poll() is not None, timeout=60,
                   what="the worker to finish a batch and claim the next")
        assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        if worker.stderr:
            worker.stderr.close()
    assert claimed_count(fake.host) > 0, "the killed worker held claims"
    assert processed_count(fake.host) < EVENTS

    restarted = make_host(plugins={"fake": FakePlugin()}, real_clock=True)
    restarted.pipeline.configure(lease_seconds=LEASE)

    def drained() -> bool:
        restarted.pipeline.processor.drain()
        return processed_count(restarted) == EVENTS

    wait_until(drained, timeout=60, what="the restarted worker to process the rest")
    with restarted.store.read() as c:
        per_event = Counter(c.execute(select(domain_events.c.inbound_event_id).where(
            domain_events.c.type == "purchase.completed")).scalars())
    assert len(per_event) == EVENTS
    assert set(per_event.values()) == {1}
