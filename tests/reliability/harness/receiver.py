"""A delivery target that records every POST (``webhook-id``, headers, body) and fails on command.

Modes: ``ok`` answers 200; ``error`` answers 500; ``timeout`` holds the request for ``hold_seconds``
(longer than the deliverer's timeout) and then answers 200 to nobody. ``POST /_mode`` with
``{"mode": ..., "hold_seconds": ...}`` switches; ``GET /_received`` returns what was recorded.

Run in the test process (``Receiver`` + ``core.testing.LiveServer``) or as its own process
(``python receiver.py PORT``) when the test process is busy sending load.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

OK, ERROR, TIMEOUT = "ok", "error", "timeout"


@attrs.frozen
class Receipt:
    path: str
    webhook_id: str
    timestamp: str
    signature: str
    body: str
    answered: int
    """What the receiver answered (0: it held the request until the sender gave up)."""


class Receiver:
    """The ASGI app; ``receipts`` is everything that arrived, in order."""

    def __init__(self) -> None:
        self.mode = OK
        self.hold_seconds = 5.0
        self.receipts: list[Receipt] = []
        self._lock = threading.Lock()

    def set_mode(self, mode: str, hold_seconds: float | None = None) -> None:
        assert mode in (OK, ERROR, TIMEOUT), mode
        self.mode = mode
        if hold_seconds is not None:
            self.hold_seconds = hold_seconds

    def received(self) -> list[Receipt]:
        with self._lock:
            return list(self.receipts)

    def delivered_ids(self) -> set[str]:
        """The ``webhook-id`` of every request that was answered 2xx."""
        return {r.webhook_id for r in self.received() if 200 <= r.answered < 300}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await _read(receive)
        if body is None:  # the sender went away mid-request (a killed worker): nothing was delivered
            return
        path, method = scope["path"], scope["method"]
        if path == "/_mode" and method == "POST":
            asked = json.loads(body)
            self.set_mode(asked["mode"], asked.get("hold_seconds"))
            await _answer(send, 200, {"mode": self.mode})
            return
        if path == "/healthz" and method == "GET":
            await _answer(send, 200, {"ok": True})
            return
        if path == "/_received" and method == "GET":
            await _answer(send, 200, [attrs.asdict(r) for r in self.received()])
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        mode = self.mode
        answered = {OK: 200, ERROR: 500, TIMEOUT: 0}[mode]
        receipt = Receipt(path=path, webhook_id=headers.get("webhook-id", ""),
                          timestamp=headers.get("webhook-timestamp", ""),
                          signature=headers.get("webhook-signature", ""),
                          body=body.decode("utf-8", "replace"), answered=answered)
        with self._lock:
            self.receipts.append(receipt)
        if mode == TIMEOUT:
            await asyncio.sleep(self.hold_seconds)
            answered = 200
        await _answer(send, answered, {"ok": answered == 200})


async def _read(receive: Receive) -> bytes | None:
    """The whole body, or None when the client disconnected before sending all of it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def receipts_from_json(rows: list[dict[str, Any]]) -> list[Receipt]:
    return [Receipt(**row) for row in rows]


def main(argv: list[str]) -> None:
    import uvicorn

    port = int(argv[1])
    uvicorn.run(Receiver(), host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                timeout_keep_alive=30, backlog=2048)


if __name__ == "__main__":
    main(sys.argv)
