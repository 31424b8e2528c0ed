"""A slow plugin never stalls the server: its hooks run on its own lane of threads, never the event loop.

Real HTTP over loopback (uvicorn + httpx): several requests keep a plugin whose hooks take 2 s busy
while ``/healthz``, the settings page and another integration's webhooks are timed.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Mapping, Sequence

import httpx
import pytest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from core import Connected, InboundEvent, InboundRequest, IntegrationContext, IntegrationInfo, hookimpl
from core.web.app import create_app

SLOW_SECONDS = 2.0
JSON = {"content-type": "application/json"}


class Webhooks:
    """An integration that receives webhooks (and connects at once), optionally slowly."""

    def __init__(self, name: str, *, seconds: float = 0.0) -> None:
        self.name, self.seconds = name, seconds
        self.inside = threading.Semaphore(0)  # released once per call that has started

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name=self.name, title=self.name.title(), description="Receives signed webhooks.")

    def _work(self) -> None:
        self.inside.release()
        time.sleep(self.seconds)

    @hookimpl
    def verify_webhook(self, request: InboundRequest) -> Sequence[InboundEvent]:
        self._work()
        event = json.loads(request.body)
        return [InboundEvent(external_id=event["id"], type="thing.happened", payload=event)]

    @hookimpl
    def connect(self, ctx: IntegrationContext, form: Mapping[str, str]) -> Connected:
        self._work()
        return Connected(external_id=f"{self.name}-account")

    @hookimpl
    def web_routes(self, ctx: IntegrationContext) -> Sequence[BaseRoute]:
        async def on_shared_threads(request: Request) -> Response:  # what the guide says not to do
            await run_in_threadpool(self._work)
            return PlainTextResponse("done")

        async def on_own_threads(request: Request) -> Response:
            await ctx.run_in_threadpool(self._work)
            return PlainTextResponse("done")

        return [Route(f"/api/{self.name}/slow", on_shared_threads, methods=["GET"]),
                Route(f"/api/{self.name}/own", on_own_threads, methods=["GET"])]

    async def wait_until_busy(self, calls: int) -> None:
        for _ in range(calls):
            assert await asyncio.to_thread(self.inside.acquire, True, 10), "the slow calls never started"


async def timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await call
    return answer, time.monotonic() - started


async def quiet_time(client: httpx.AsyncClient, path: str) -> float:
    """How long ``GET path`` takes before any load (the best of three): what a delay is measured from,
    since a shared test machine makes even an idle request take a while."""
    times = []
    for _ in range(3):
        answer, seconds = await timed(client.get(path))
        assert answer.status_code == 200, answer.text
        times.append(seconds)
    return min(times)


async def flooded(client: httpx.AsyncClient, slow, request, *, threads: int) -> list[httpx.Response]:
    """Send 44 of ``request()`` (more than the 40 threads Starlette's shared pool has); once the plugin's
    ``threads`` are busy, check neither ``/healthz`` nor the page waits more than 0.5 s longer than before
    any load. Returns the 44 answers."""
    quiet_health = await quiet_time(client, "/healthz")
    quiet_page = await quiet_time(client, "/settings/integrations")
    calls = [asyncio.ensure_future(request()) for _ in range(44)]
    await slow.wait_until_busy(threads)
    await asyncio.sleep(0.2)

    health, health_wait = await timed(client.get("/healthz"))
    page, page_wait = await timed(client.get("/settings/integrations"))
    answers = await asyncio.gather(*calls)

    assert health.status_code == 200 and health_wait - quiet_health < 0.5, \
        f"/healthz took {health_wait:.2f} s against {quiet_health:.2f} s before"
    assert page.status_code == 200 and page_wait - quiet_page < 0.5, \
        f"the page took {page_wait:.2f} s against {quiet_page:.2f} s before"
    return answers


@pytest.fixture
def server(make_host, live_server):
    def start(**settings) -> tuple[str, Webhooks, Webhooks, str]:
        slow, fast = Webhooks("slow", seconds=SLOW_SECONDS), Webhooks("fast")
        host = make_host(plugins={"slow": slow, "fast": fast}, settings=settings, real_clock=True)
        _, token = host.tenants.create("Studio")
        return live_server(create_app(host)), slow, fast, token
    return start


async def test_a_slow_verify_webhook_delays_neither_healthz_nor_another_integrations_intake(server):
    url, slow, _fast, _ = server()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        quiet = await quiet_time(client, "/healthz")
        _, quiet_intake = await timed(client.post("/webhooks/fast", content=b'{"id": "evt_0"}', headers=JSON))
        slow_calls = [asyncio.ensure_future(client.post("/webhooks/slow", content=json.dumps({"id": f"evt_{i}"}),
                                                        headers=JSON)) for i in range(4)]
        await slow.wait_until_busy(4)

        health, health_wait = await timed(client.get("/healthz"))
        intake, intake_wait = await timed(client.post("/webhooks/fast", content=b'{"id": "evt_1"}', headers=JSON))
        answers = await asyncio.gather(*slow_calls)

    assert health.status_code == 200 and health_wait - quiet < 0.5, \
        f"/healthz took {health_wait:.2f} s against {quiet:.2f} s before"
    assert intake.json() == {"received": 1, "duplicates": 0} and intake_wait - quiet_intake < 0.5, \
        f"the other integration's webhook took {intake_wait:.2f} s against {quiet_intake:.2f} s before"
    assert [a.json() for a in answers] == [{"received": 1, "duplicates": 0}] * 4, "the slow ones still succeed"


async def test_more_slow_connects_than_the_server_has_threads_delay_neither_healthz_nor_the_page(server):
    url, slow, _fast, token = server(plugin_concurrency=4, plugin_timeout_seconds=SLOW_SECONDS + 1)
    signed_in = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=signed_in, limits=limits) as client:
        answers = await flooded(client, slow, lambda: client.post("/api/integrations/slow/connect", json={}),
                                threads=4)

    assert 201 in [a.status_code for a in answers], "the first four connected"
    assert answers[-1].status_code == 503 and answers[-1].json()["error"]["code"] == "plugin_busy", \
        "the last in line never got a thread, and was told so"


async def test_a_plugin_route_filling_the_shared_thread_pool_does_not_delay_healthz(server):
    url, slow, _fast, _ = server()
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=None)) as client:
        quiet = await quiet_time(client, "/healthz")
        pages = [asyncio.ensure_future(client.get("/api/slow/slow")) for _ in range(44)]
        await slow.wait_until_busy(40)  # every thread of Starlette's shared pool

        health, health_wait = await timed(client.get("/healthz"))
        await asyncio.gather(*pages)

    assert health.status_code == 200 and health_wait - quiet < 0.5, \
        f"/healthz took {health_wait:.2f} s against {quiet:.2f} s before"


async def test_a_plugin_route_on_its_own_threads_delays_neither_healthz_nor_the_page_and_keeps_to_its_budget(
        server):
    url, slow, _fast, token = server(plugin_concurrency=4, plugin_timeout_seconds=SLOW_SECONDS + 1)
    signed_in = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=signed_in,
                                 limits=httpx.Limits(max_connections=None)) as client:
        answers = await flooded(client, slow, lambda: client.get("/api/slow/own"), threads=4)

    codes = [a.status_code for a in answers]
    assert codes.count(200) >= 4 and set(codes) <= {200, 503, 504}
    assert answers[-1].json()["error"]["code"] == "plugin_busy"


async def test_a_webhook_whose_verification_outruns_the_budget_gets_504_and_the_plugin_is_marked(server):
    url, _slow, _fast, _ = server(plugin_timeout_seconds=0.5, metrics_token="operator-token")
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        answer, waited = await timed(client.post("/webhooks/slow", content=b'{"id": "evt_late"}', headers=JSON))
        health = (await client.get("/healthz/details", headers={"Authorization": "Bearer operator-token"})).json()

    assert answer.status_code == 504 and waited < 1.5
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["error"]["code"] == "plugin_timeout"
    assert "The Slow integration did not answer within 0.5 s (verify_webhook)" in answer.json()["error"]["message"]
    (recorded,) = [p for p in health["plugins"] if p["name"] == "slow"]
    assert any("verify_webhook" in error and "0.5 s" in error for error in recorded["recent_errors"])


async def test_a_plugin_runs_at_most_its_lane_of_calls_at_once_and_the_rest_wait_their_turn(server):
    url, slow, _fast, _ = server(plugin_concurrency=2)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        calls = [asyncio.ensure_future(client.post("/webhooks/slow", content=json.dumps({"id": f"evt_{i}"}),
                                                   headers=JSON)) for i in range(3)]
        await slow.wait_until_busy(2)
        await asyncio.sleep(0.5)
        third_started = slow.inside.acquire(blocking=False)
        answers = await asyncio.gather(*calls)

    assert not third_started, "a third call ran while two were running"
    assert [a.status_code for a in answers] == [200, 200, 200]
