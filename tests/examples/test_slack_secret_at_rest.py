"""Where the Slack webhook URL (a credential) ends up on disk once messages flow.

The connection stores it encrypted, and ``ctx.deliver(to=url)`` targets are credentials too: the
outbox keeps the full URL encrypted and only its scheme and host in clear.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_slack_conformance import load_example

from core import CORE_EVENT_TYPES


def test_the_webhook_url_is_not_on_disk_in_clear_after_a_sale_was_posted(make_host, live_server):
    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    receiver = live_server(Starlette(routes=[Route("/services/{path:path}", ok, methods=["POST"])]))
    host = make_host(plugins={"slack": load_example()}, config={"slack": {"allow_loopback_urls": True}})
    tenant, _ = host.tenants.create("Ada's Watercolours")
    url = f"{receiver}/services/T0001/B0001/secret-token"
    host.connect(tenant, "slack", {"webhook_url": url})
    host.emit(tenant.id, "purchase.completed", CORE_EVENT_TYPES["purchase.completed"].example)
    asyncio.run(host.pipeline.run_once())
    with host.store.read() as c:
        rows = [tuple(r) for table in ("deliveries", "connections")
                for r in c.exec_driver_sql(f"SELECT * FROM {table}")]
    assert rows and "secret-token" not in repr(rows)
    host.close()

    if host.settings.database_url.startswith("sqlite:///"):  # and nowhere in the file itself
        path = Path(host.settings.database_url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        assert b"secret-token" not in stored
