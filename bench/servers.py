"""The HTTP baselines, on the same stack as ``serve`` (uvicorn, one worker, Starlette):

* ``bare``  — ``POST /webhooks/{name}`` reads the body and answers 200: the ceiling of the stack;
* ``ideal`` — the hand-written ideal intake: Stripe's signature check + ``json.loads`` + one raw
  INSERT and COMMIT per event. On SQLite (sqlite3, WAL, synchronous=FULL) it commits on the event loop:
  one writer at a time, and no thread hop is the fastest a single SQLite writer gets. On PostgreSQL it
  awaits psycopg's async connections (a pool of ``PG_CONNECTIONS``), so commits of concurrent requests
  overlap and never block the loop — what a hand-written async service would do.

Both run on :func:`core.server_stack.uvicorn_options` (httptools, uvloop), the stack ``serve`` runs on,
so the ratios compare code, not servers.

    python -m bench.servers bare|ideal --port PORT [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.events import WEBHOOK_SECRET

INSERT = ("INSERT INTO inbound_events (id, integration, external_id, type, account, livemode, tenant_id, payload, "
          "status, attempts, next_attempt_at, received_at) VALUES ({p}) ON CONFLICT DO NOTHING")


PG_CONNECTIONS = 8


class RawStore:
    """One INSERT + COMMIT per event through the bare driver (the baseline's store)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.sql = INSERT.format(p=", ".join("?" * 12))
        else:
            import psycopg

            from bench.common import libpq_url

            self.conn = psycopg.connect(libpq_url(url))
            self.sql = INSERT.format(p=", ".join(["%s"] * 12))

    def insert(self, event: dict[str, Any], payload: str) -> None:
        row = _row(event, payload, sqlite=self.sqlite)
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(self.sql, row)
            self.conn.execute("COMMIT")
        else:
            with self.conn.cursor() as cur:
                cur.execute(self.sql, row)
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def _row(event: dict[str, Any], payload: str, *, sqlite: bool) -> tuple[Any, ...]:
    now = datetime.now(UTC).replace(tzinfo=None)
    when: Any = now.isoformat(sep=" ") if sqlite else now
    return (f"inb_{uuid.uuid4().hex[:26]}", "stripe_connect", event["id"], event["type"], event.get("account"),
            bool(event.get("livemode")), None, payload, "pending", 0, when, when)


class AsyncPgStore:
    """One INSERT + COMMIT per event on psycopg's async connections, ``size`` of them shared by the requests."""

    def __init__(self, url: str, size: int = PG_CONNECTIONS) -> None:
        from bench.common import libpq_url

        self.url, self.size = libpq_url(url), size
        self.sql = INSERT.format(p=", ".join(["%s"] * 12))
        self._idle: asyncio.Queue[Any] | None = None
        self._opening = asyncio.Lock()

    async def _pool(self) -> asyncio.Queue[Any]:
        if self._idle is None:
            async with self._opening:  # the first requests arrive together: open the pool once
                if self._idle is None:
                    import psycopg

                    idle: asyncio.Queue[Any] = asyncio.Queue()
                    for _ in range(self.size):
                        idle.put_nowait(await psycopg.AsyncConnection.connect(self.url))
                    self._idle = idle
        return self._idle

    async def insert(self, event: dict[str, Any], payload: str) -> None:
        idle = await self._pool()
        conn = await idle.get()
        try:
            async with conn.cursor() as cur:
                await cur.execute(self.sql, _row(event, payload, sqlite=False))
            await conn.commit()
        finally:
            idle.put_nowait(conn)


def verify_and_parse(body: bytes, header: str) -> dict[str, Any]:
    stripe.WebhookSignature.verify_header(body, header, WEBHOOK_SECRET, 300)
    event = json.loads(body)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise ValueError("not a Stripe event")
    return event


def bare_app() -> Starlette:
    async def bare(request: Request) -> Response:
        await request.body()
        return Response(b'{"received":1,"duplicates":0}', media_type="application/json")

    return Starlette(routes=[Route("/webhooks/{name}", bare, methods=["POST"])])


def ideal_app(url: str) -> Starlette:
    sqlite_store = RawStore(url) if url.startswith("sqlite") else None
    pg_store = None if sqlite_store else AsyncPgStore(url)

    async def ideal(request: Request) -> Response:
        body = await request.body()
        try:
            event = verify_and_parse(body, request.headers.get("stripe-signature", ""))
        except (stripe.SignatureVerificationError, ValueError) as exc:
            return JSONResponse({"error": {"code": "signature_invalid", "message": str(exc)}}, status_code=400)
        if sqlite_store is not None:
            sqlite_store.insert(event, body.decode())  # on the event loop: SQLite's one writer, no thread hop
        else:
            assert pg_store is not None
            await pg_store.insert(event, body.decode())
        return Response(b'{"received":1,"duplicates":0}', media_type="application/json")

    return Starlette(routes=[Route("/webhooks/{name}", ideal, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("kind", choices=["bare", "ideal"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    import uvicorn

    from core.server_stack import uvicorn_options

    app = bare_app() if args.kind == "bare" else ideal_app(args.db)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off", **uvicorn_options())


if __name__ == "__main__":
    main()
