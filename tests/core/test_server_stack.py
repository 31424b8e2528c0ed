"""serve and worker run on uvicorn with httptools, and uvloop: the stack the benchmarks' baselines use too."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core import server_stack

needs_uvloop = pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not exist on Windows")


async def _app(scope, receive, send):  # pragma: no cover - never called: only the config is loaded
    raise AssertionError


def test_uvicorn_is_configured_with_the_httptools_parser():
    config = uvicorn.Config(_app, **server_stack.uvicorn_options())
    config.load()

    assert config.http_protocol_class is HttpToolsProtocol


@needs_uvloop
def test_uvicorn_runs_on_uvloop():
    import uvloop

    factory = uvicorn.Config(_app, **server_stack.uvicorn_options()).get_loop_factory()

    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


@needs_uvloop
def test_the_worker_loop_is_uvloop():
    import uvloop

    async def which_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert isinstance(server_stack.run(which_loop()), uvloop.Loop)
