"""The worker loop: do a step while there is work, sleep briefly (or until woken) when idle.

A failing step (database down, a bug) is logged and retried after a growing pause; it never
ends the loop, so a worker rides out an outage and resumes by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.pipeline.config import PipelineConfig

log = logging.getLogger("intellectra.pipeline.workers")

MAX_ERROR_PAUSE = 30.0


class Wakeup:
    """A wake-up call any thread can make to a loop sleeping in ``wait``."""

    def __init__(self) -> None:
        self._flag = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def set(self) -> None:
        self._flag.set()
        loop, event = self._loop, self._event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float, stop: asyncio.Event) -> None:
        """Return after ``timeout``, on a wake-up, or when ``stop`` is set."""
        if self._flag.is_set() or stop.is_set():
            self._flag.clear()
            return
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        if self._flag.is_set():  # woken while we were getting ready
            self._event.set()
        waiters = [asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._flag.clear()


async def run_forever(name: str, step: Callable[[], Awaitable[bool]], stop: asyncio.Event, wake: Wakeup,
                      config: PipelineConfig) -> None:
    """Call ``step`` (returns whether it found work) until ``stop`` is set."""
    errors = 0
    while not stop.is_set():
        try:
            busy = await step()
            errors = 0
        except Exception as exc:
            errors += 1
            pause = min(MAX_ERROR_PAUSE, config.idle_seconds * 2 ** min(errors, 8))
            log.error("%s worker step failed (%s: %s); trying again in %.1f s", name, exc.__class__.__name__,
                      str(exc)[:300], pause)
            await wake.wait(pause, stop)
            continue
        if not busy:
            await wake.wait(config.idle_seconds, stop)
