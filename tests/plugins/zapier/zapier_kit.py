"""Helpers the Zapier tests share (a module, so tests can import it)."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Receiver:
    """A stand-in for hooks.zapier.com: records what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, object]]] = []
        self.raw: list[bytes] = []
        """The bodies as sent (a signature covers these bytes)."""
        self.status = 200

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            self.raw.append(body)
            self.received.append((dict(request.headers), json.loads(body)))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hooks/{zap}", hook, methods=["POST"])])
