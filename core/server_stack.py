"""The stack every server and worker of the host runs on: uvicorn with httptools, and uvloop.

Measured on this project (bench/README.md): with h11 and the standard asyncio loop, HTTP parsing and
the loop were half of ``serve``'s CPU under load; httptools and uvloop take the same code 1.3x
faster. Both are required dependencies, so ``auto`` would pick them too; naming them here makes a
broken install fail at start-up instead of silently running on the slow stack, and lets the
benchmarks run their baselines on exactly the same stack. uvloop does not exist on Windows, where
the standard loop is used.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any, Literal, TypedDict, TypeVar

T = TypeVar("T")


class UvicornOptions(TypedDict):
    http: Literal["httptools"]
    loop: Literal["uvloop", "asyncio"]


def has_uvloop() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def uvicorn_options() -> UvicornOptions:
    """The ``http`` and ``loop`` options for ``uvicorn.run`` / ``uvicorn.Config``."""
    return {"http": "httptools", "loop": "uvloop" if has_uvloop() else "asyncio"}


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop of the kind :func:`run` runs (uvloop where it exists)."""
    if has_uvloop():
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it exists (the ``worker`` command: deliveries run on this loop)."""
    if has_uvloop():
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
