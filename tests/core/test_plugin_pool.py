"""Plugin lanes: plugin code runs on its plugin's own capped threads, every call within a time budget."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from core.errors import PluginBusy, PluginTimeout
from core.plugin_pool import PluginPool


class Gauge:
    """Counts how many calls run at once, and the most there ever were."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.ran: list[str] = []
        self._lock = threading.Lock()

    def work(self, seconds: float, label: str = "") -> str:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(seconds)
        with self._lock:
            self.now -= 1
            self.ran.append(label)
        return threading.current_thread().name


@pytest.fixture
def pool():
    pools: list[PluginPool] = []

    def make(**options) -> PluginPool:
        pools.append(PluginPool(**options))
        return pools[-1]

    yield make
    for each in pools:
        each.close()


async def test_a_call_runs_on_a_thread_of_its_plugins_lane_and_returns_its_result(pool):
    loop_thread = threading.current_thread().name

    name = await pool().run("slack", "connect", lambda: threading.current_thread().name)

    assert name != loop_thread and name.startswith("plugin-slack")


async def test_what_the_call_raises_reaches_the_caller(pool):
    def fails() -> None:
        raise ValueError("no such channel")

    with pytest.raises(ValueError, match="no such channel"):
        await pool().run("slack", "connect", fails)


async def test_the_callers_context_variables_go_along():
    request_id = contextvars.ContextVar("request_id", default="none")
    request_id.set("req-7")
    lanes = PluginPool()
    try:
        assert await lanes.run("slack", "connect", request_id.get) == "req-7"
    finally:
        lanes.close()


async def test_one_plugin_never_runs_more_calls_at_once_than_its_lane_allows(pool):
    gauge = Gauge()
    lanes = pool(max_calls=2)

    await asyncio.gather(*(lanes.run("slow", "verify_webhook", gauge.work, 0.2) for _ in range(6)))

    assert gauge.peak == 2 and len(gauge.ran) == 6


async def test_a_busy_plugin_does_not_hold_up_another_plugins_calls(pool):
    gauge = Gauge()
    lanes = pool(max_calls=2)
    busy = [asyncio.ensure_future(lanes.run("slow", "verify_webhook", gauge.work, 1.0)) for _ in range(6)]
    await asyncio.sleep(0.05)

    started = time.monotonic()
    await lanes.run("fast", "verify_webhook", gauge.work, 0.0)
    waited = time.monotonic() - started

    assert waited < 0.3, f"the other plugin's call waited {waited:.2f} s behind the busy one"
    for call in busy:
        call.cancel()


async def test_a_call_that_overruns_its_budget_answers_504_and_is_recorded(pool):
    overruns: list[tuple[str, str, Exception]] = []
    lanes = pool(budget_seconds=0.2, on_overrun=lambda *args: overruns.append(args),
                 describe=lambda lane: f"The {lane.title()} integration")

    started = time.monotonic()
    with pytest.raises(PluginTimeout) as info:
        await lanes.run("slow", "verify_webhook", time.sleep, 1.0)

    assert time.monotonic() - started < 0.6
    assert info.value.http_status == 504 and info.value.code == "plugin_timeout"
    assert "The Slow integration did not answer within 0.2 s (verify_webhook)" in info.value.message
    assert [(lane, what) for lane, what, _ in overruns] == [("slow", "verify_webhook")]


async def test_an_overrunning_call_keeps_its_thread_until_it_ends_so_the_cap_still_holds(pool):
    gauge = Gauge()
    lanes = pool(max_calls=1, budget_seconds=0.2)
    with pytest.raises(PluginTimeout):
        await lanes.run("slow", "connect", gauge.work, 0.6, "first")

    with pytest.raises(PluginBusy) as info:  # the first call still has the lane's only thread
        await lanes.run("slow", "connect", gauge.work, 0.0, "second")

    assert info.value.http_status == 503 and info.value.code == "plugin_busy"
    await asyncio.sleep(0.6)
    assert gauge.ran == ["first"], "a call that never got a thread within its budget never runs"
    assert gauge.peak == 1


async def test_a_lane_and_a_budget_must_be_real():
    with pytest.raises(ValueError):
        PluginPool(max_calls=0)
    with pytest.raises(ValueError):
        PluginPool(budget_seconds=0)


async def test_a_closed_pool_takes_no_more_calls():
    lanes = PluginPool()
    await lanes.run("slack", "connect", lambda: None)
    lanes.close()

    with pytest.raises(RuntimeError, match="closed"):
        await lanes.run("slack", "connect", lambda: None)
    with pytest.raises(RuntimeError, match="closed"):
        await lanes.run("zapier", "connect", lambda: None)


def hand_on_later(seconds: float = 0.0, handed: list | None = None):
    """A ``then`` for ``run_then``: another thread finishes the work after ``seconds`` and resolves the waiter."""

    def then(result, loop, waiter) -> None:
        if handed is not None:
            handed.append(result)

        def finish() -> None:
            time.sleep(seconds)
            loop.call_soon_threadsafe(waiter.set_result, f"{result}, finished")

        threading.Thread(target=finish).start()

    return then


async def test_run_then_hands_the_result_on_from_the_plugins_thread_and_returns_what_the_next_one_gives(pool):
    handed_on_from: list[str] = []

    def then(result, loop, waiter) -> None:
        handed_on_from.append(threading.current_thread().name)
        hand_on_later()(result, loop, waiter)

    answer = await pool().run_then("slack", "verify_webhook", lambda x: f"verified {x}", then, 7)

    assert answer == "verified 7, finished"
    assert handed_on_from[0].startswith("plugin-slack")


async def test_run_then_budgets_the_plugins_call_only_not_the_work_it_hands_on(pool):
    lanes = pool(budget_seconds=0.2)

    answer = await lanes.run_then("slow", "verify_webhook", lambda: "verified", hand_on_later(0.5))

    assert answer == "verified, finished"


async def test_run_then_a_call_that_overruns_is_a_504_and_is_never_handed_on(pool):
    overruns: list[tuple[str, str, Exception]] = []
    handed: list[str] = []
    lanes = pool(budget_seconds=0.2, on_overrun=lambda *args: overruns.append(args))

    def slow() -> str:
        time.sleep(0.5)
        return "verified too late"

    with pytest.raises(PluginTimeout):
        await lanes.run_then("slow", "verify_webhook", slow, hand_on_later(handed=handed))
    await asyncio.sleep(0.5)

    assert handed == [], "a result that came after the caller was answered went nowhere"
    assert [(lane, what) for lane, what, _ in overruns] == [("slow", "verify_webhook")]


async def test_run_then_a_call_that_never_got_a_thread_is_a_503_and_never_runs(pool):
    gauge = Gauge()
    lanes = pool(max_calls=1, budget_seconds=0.2)
    with pytest.raises(PluginTimeout):
        await lanes.run_then("slow", "verify_webhook", gauge.work, hand_on_later(), 0.6, "first")

    with pytest.raises(PluginBusy):
        await lanes.run_then("slow", "verify_webhook", gauge.work, hand_on_later(), 0.0, "second")

    await asyncio.sleep(0.6)
    assert gauge.ran == ["first"]


async def test_run_then_what_the_call_or_the_hand_on_raises_reaches_the_caller(pool):
    def fails() -> None:
        raise ValueError("bad signature")

    def refuses(result, loop, waiter) -> None:
        raise RuntimeError("the writer is shut down")

    with pytest.raises(ValueError, match="bad signature"):
        await pool().run_then("slack", "verify_webhook", fails, hand_on_later())
    with pytest.raises(RuntimeError, match="shut down"):
        await pool().run_then("slack", "verify_webhook", lambda: "ok", refuses)


async def test_run_then_the_callers_context_variables_go_along(pool):
    request_id = contextvars.ContextVar("request_id", default="none")
    request_id.set("req-9")

    assert await pool().run_then("slack", "verify_webhook", request_id.get, hand_on_later()) == "req-9, finished"
