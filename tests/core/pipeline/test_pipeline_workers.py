"""``serve`` with workers: a webhook in becomes a signed delivery out, with nobody calling run_once."""

from __future__ import annotations

import asyncio
import time

import httpx
from fakepay import signed_request, thing_paid
from standardwebhooks import Webhook

from core.web.app import create_app


def test_the_web_app_workers_carry_an_event_from_webhook_to_delivery(make_fake, receiver, live_server):
    fake = make_fake(real_clock=True)
    target = live_server(receiver.app())
    _, secret = fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                                  target_url=f"{target}/hook")
    url = live_server(create_app(fake.host, run_workers=True))
    body, headers = signed_request(thing_paid("evt_1"))
    assert httpx.post(f"{url}/webhooks/fake", content=body, headers=headers).status_code == 200
    deadline = time.monotonic() + 30
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    (sent_body, sent_headers), = receiver.requests
    assert Webhook(secret).verify(sent_body, sent_headers)["data"]["amount"] == 4900


async def test_a_worker_loop_survives_a_failing_step_and_stops_when_asked(fake, caplog):
    calls = []

    def broken_batch(limit=None):
        calls.append(1)
        raise ConnectionError("database is down")

    fake.host.pipeline.configure(idle_seconds=0.01)
    fake.host.pipeline.processor.run_batch = broken_batch
    stop = asyncio.Event()
    task = asyncio.create_task(fake.host.pipeline.run_workers(stop))
    while len(calls) < 2:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert any("processing worker step failed" in r.getMessage() for r in caplog.records)
