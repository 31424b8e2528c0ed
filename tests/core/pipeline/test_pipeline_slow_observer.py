"""A third-party plugin whose ``on_domain_event`` takes 4 s holds nobody up.

Observers used to run inside the transaction that wrote the event: on SQLite another process's write
(``tenants create``) waited 4.2 s for it, and the creator's Connect click waited with it. Now the event's
transaction only queues the observation and a worker runs the plugin after the commit. The host here is
the real thing: ``serve``'s web app with its workers, over HTTP, and the CLI in another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from core import Capability, Connected, IntegrationInfo, hookimpl
from core.web.app import create_app

SLOW = 4.0
ALLOWED_DELAY = 2.0
SCRIPT = str(Path(sys.executable).parent / "intellectra-integrations")


class Slowpoke:
    """Observes connections and new members, and takes 4 s over each."""

    def __init__(self) -> None:
        self.observing = threading.Event()
        self.observed: list[str] = []

    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="slowpoke", title="Slowpoke", description="Takes its time over every event.",
                               capabilities={Capability.CONNECT},
                               observes={"integration.connected", "member.created"})

    @hookimpl
    def connect(self, ctx, tenant, form, state):
        return Connected(secrets={"url": "http://127.0.0.1:9/slow"})

    @hookimpl
    def on_domain_event(self, ctx, event):
        self.observing.set()
        time.sleep(SLOW)
        ctx.deliver(to=ctx.secret("url"), json={"type": event.type})
        self.observed.append(event.type)


def timed(action):
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def wait_until(condition, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_4_second_observer_delays_neither_the_creators_click_nor_another_process(
        make_host, live_server, intellectra_database_url, tmp_path, recorder):
    plugin = Slowpoke()
    host = make_host(plugins={"slowpoke": plugin}, real_clock=True)
    tenant, token = host.tenants.create("Ada's Studio")
    url = live_server(create_app(host, run_workers=True))
    (tmp_path / "registry.toml").write_text("")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INTELLECTRA_")},
           "INTELLECTRA_DATABASE_URL": intellectra_database_url, "INTELLECTRA_SECRET_KEYS": host.settings.secret_keys,
           "INTELLECTRA_REGISTRY": str(tmp_path / "registry.toml")}

    def tenants_create(name: str) -> None:
        done = subprocess.run([SCRIPT, "tenants", "create", name], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    _, baseline = timed(lambda: tenants_create("Baseline"))  # the CLI's own start-up, with nothing to wait for

    # The creator's click: connecting emits integration.connected, which the plugin observes for 4 s.
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        response, click = timed(lambda: api.post("/api/integrations/slowpoke/connect", json={}))
    assert response.status_code == 201, response.text
    assert click < ALLOWED_DELAY, f"the Connect click took {click:.1f} s"

    # Another process writes while the worker is inside the plugin's on_domain_event.
    assert plugin.observing.wait(10), "the worker never started observing"
    _, during = timed(lambda: tenants_create("Bob's Bakery"))
    assert during - baseline < ALLOWED_DELAY, f"tenants create took {during:.1f} s (alone: {baseline:.1f} s)"

    # The host app emits while the observer is still busy.
    _, emit = timed(lambda: host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"}))
    assert emit < ALLOWED_DELAY, f"emit took {emit:.1f} s"

    # ... and the observer did its work after all, through the outbox.
    wait_until(lambda: len(plugin.observed) == 2, "both observations", timeout=4 * SLOW + 10)
    assert sorted(plugin.observed) == ["integration.connected", "member.created"]
    wait_until(lambda: len(recorder.deliveries(integration="slowpoke")) == 2, "the observer's deliveries")
