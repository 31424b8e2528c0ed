"""``SandboxServer``: the sandbox app on uvicorn, 127.0.0.1 and a free port, in a background thread.

Tests start one per fixture (``with SandboxServer(...) as server:``) and point ``stripe.StripeClient`` at
``server.url``; ``server.sandbox`` is the live state (e.g. ``server.sandbox.add_webhook_endpoint``).
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from .app import create_sandbox_app
from .state import Sandbox


class SandboxServer:
    """Runs ``create_sandbox_app(**kwargs)``; ``port=0`` picks a free port."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **app_kwargs: Any) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.app = create_sandbox_app(**app_kwargs)
        self.sandbox: Sandbox = self.app.state.sandbox
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="stripe-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"Stripe sandbox did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self.sandbox.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
