"""Plugin code called from async code runs here, never on the event loop: a lane of threads per plugin.

A hook is ordinary blocking code (a signature check, a call to the provider), and one slow hook on
the event loop stalls every request the server has, ``/healthz`` included. So the web layer and
intake hand each call that reaches a plugin to that plugin's *lane*: a thread pool of its own with
at most ``max_calls`` threads. One slow plugin can hold only its own lane, never another plugin's
nor the threads the host's own requests use.

Every call has a time budget, counted from when it is handed over. A call still waiting for a
thread when the budget runs out never runs (:class:`PluginBusy`, 503); one that is still running
gets :class:`PluginTimeout` (504) for its caller, and both are recorded against the plugin. A
running thread cannot be stopped: it finishes in the background and keeps its place in the lane
until then, so the cap on one plugin's threads stays true even when its calls overrun.

:mod:`concurrent.futures` is the pool (cancelling a call that has not started is built in);
this module only adds the lanes and the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from core.errors import PluginBusy, PluginTimeout

T = TypeVar("T")
U = TypeVar("U")
HandOn = Callable[[T, asyncio.AbstractEventLoop, "asyncio.Future[U]"], None]
"""``then(result, loop, waiter)`` of :meth:`PluginPool.run_then`."""
Overrun = Callable[[str, str, "PluginBusy | PluginTimeout"], None]
"""Called with (lane, what, error) when a call runs out of budget: where overruns are recorded."""


class PluginPool:
    """Lanes of threads, one per plugin (created on first use), each capped, every call on a budget."""

    def __init__(self, *, max_calls: int = 8, budget_seconds: float = 30.0, on_overrun: Overrun | None = None,
                 describe: Callable[[str], str] = lambda lane: f"The {lane} integration") -> None:
        """``describe(lane)`` names a lane's owner in messages (``"The Stripe integration"``)."""
        if max_calls < 1 or budget_seconds <= 0:
            raise ValueError("a plugin lane needs at least one thread and a budget above 0 s")
        self.max_calls = max_calls
        self.budget_seconds = budget_seconds
        self.on_overrun = on_overrun
        self.describe = describe
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._closed = False

    async def run(self, lane: str, what: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on one of ``lane``'s threads, awaited within the budget.

        ``what`` names the call in errors and records (``"verify_webhook"``, ``"connect"``). The
        caller's context variables go along, as with ``asyncio.to_thread``. Whatever ``fn`` raises
        is raised here.
        """
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        future = self._lane(lane).submit(call)
        try:
            async with asyncio.timeout(self.budget_seconds):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            error = self._overrun(lane, what, started=not future.cancelled())
        raise error

    async def run_then(self, lane: str, what: str, fn: Callable[..., T], then: HandOn[T, U], /, *args: Any) -> U:
        """``fn(*args)`` on one of ``lane``'s threads within the budget; then, on that same thread,
        ``then(result, loop, waiter)`` hands the result on to whoever finishes the work, which resolves
        ``waiter`` on ``loop`` (with ``loop.call_soon_threadsafe``). Returns what ``waiter`` gets.

        For work that goes from the plugin to another thread (intake: verified events to the
        group-commit writer): the event loop is woken once, at the end, instead of once when the
        plugin returns and again when the next thread is done. The budget covers ``fn`` only, with
        the same outcomes as :meth:`run`; once ``fn`` has returned within it, the rest is awaited
        as long as it takes. A call whose budget ran out is never handed on, even if it returns later.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[U] = loop.create_future()
        race = _Race()
        context = contextvars.copy_context()

        def call() -> None:
            try:
                result = context.run(fn, *args)
            except BaseException as exc:
                if race.finish():
                    _fail_threadsafe(loop, waiter, exc)
                return
            if race.finish():
                try:
                    then(result, loop, waiter)
                except BaseException as exc:
                    _fail_threadsafe(loop, waiter, exc)

        future = self._lane(lane).submit(call)
        timer = loop.call_later(self.budget_seconds, self._expire, lane, what, future, race, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def _expire(self, lane: str, what: str, future: Future[None], race: _Race, waiter: asyncio.Future[Any]) -> None:
        """On the loop, when a :meth:`run_then` call's budget ends: fail it unless ``fn`` already returned."""
        if waiter.done() or not race.abandon():
            return
        waiter.set_exception(self._overrun(lane, what, started=not future.cancel()))

    def close(self) -> None:
        """Stop taking calls; calls not yet started are dropped, running ones finish on their own."""
        with self._lock:
            self._closed = True
            lanes, self._lanes = list(self._lanes.values()), {}
        for executor in lanes:
            executor.shutdown(wait=False, cancel_futures=True)

    def _lane(self, lane: str) -> ThreadPoolExecutor:
        executor = self._lanes.get(lane)
        if executor is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the plugin pool is closed (the host was closed); no more plugin calls")
                executor = self._lanes.get(lane)
                if executor is None:
                    executor = ThreadPoolExecutor(max_workers=self.max_calls,
                                                  thread_name_prefix=f"plugin-{lane}")
                    self._lanes[lane] = executor
        return executor

    def _overrun(self, lane: str, what: str, *, started: bool) -> PluginBusy | PluginTimeout:
        who, budget = self.describe(lane), f"{self.budget_seconds:g} s"
        error: PluginBusy | PluginTimeout
        if started:
            error = PluginTimeout(f"{who} did not answer within {budget} ({what}), so the host "
                                  "stopped waiting. What it was doing may still complete: check again in a "
                                  "moment, and if this keeps happening ask the site operator to check "
                                  "`plugins list`.")
        else:
            error = PluginBusy(f"{who} is busy with {self.max_calls} other requests and could "
                               f"not take this one ({what}) within {budget}; nothing was done. Try again in a "
                               "few seconds.")
        if self.on_overrun is not None:
            self.on_overrun(lane, what, error)
        return error


class _Race:
    """Whether a :meth:`PluginPool.run_then` call finished first or its budget ran out first: exactly one wins."""

    __slots__ = ("_lock", "_state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = 0

    def finish(self) -> bool:
        with self._lock:
            if self._state:
                return False
            self._state = 1
            return True

    def abandon(self) -> bool:
        with self._lock:
            if self._state:
                return False
            self._state = 2
            return True


def _fail_threadsafe(loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[Any], error: BaseException) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
        loop.call_soon_threadsafe(_fail, waiter, error)


def _fail(waiter: asyncio.Future[Any], error: BaseException) -> None:
    if not waiter.done():
        waiter.set_exception(error)
