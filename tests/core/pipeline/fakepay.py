"""Fake Pay: a throwaway provider for the pipeline's tests, and a receiver for deliveries.

The fake provider HMAC-signs raw bodies (``x-fake-signature``); its ``handle_event`` turns
``thing.paid`` into ``purchase.completed`` for the routed tenant and can be told to fail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import (
    Capability,
    IgnoreEvent,
    InboundEvent,
    IntegrationInfo,
    NewDomainEvent,
    WebhookRejected,
    hookimpl,
)
from core.models import InboundRequest, StoredEvent

FAKE_SECRET = b"fake-signing-secret-0123456789"
ACCOUNT = "acct_fake_1"


def sign(body: bytes) -> str:
    return hmac.new(FAKE_SECRET, body, hashlib.sha256).hexdigest()


def thing_paid(event_id: str = "evt_1", *, account: str = ACCOUNT, amount: int = 4900) -> dict[str, Any]:
    return {"id": event_id, "type": "thing.paid", "account": account,
            "data": {"amount": amount, "currency": "usd", "email": "buyer@example.com"}}


def signed_request(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"content-type": "application/json", "x-fake-signature": sign(body)}


class FakePlugin:
    """A provider that signs with HMAC-SHA256 and sends one event per request."""

    def __init__(self) -> None:
        self.fail_times = 0
        self.delay = 0.0
        """Seconds each ``handle_event`` takes (to kill a worker in the middle of a batch)."""
        self.broken_verify = False
        """Make ``verify_webhook`` return an event the host must refuse to store (no external id)."""
        self.barrier: threading.Barrier | None = None
        """Handlers wait here for each other (proves a batch's handlers run side by side)."""
        self.gate: threading.Event | None = None
        """Handlers wait here until the test opens it (a handler that outlives its lease)."""
        self.started = threading.Semaphore(0)
        """Released once per handler call as it starts."""
        self.invalid_for: set[str] = set()
        """External ids for which the handler returns a domain event its schema refuses."""
        self.handled: list[str] = []
        self._lock = threading.Lock()

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="fake", title="Fake Pay", description="A fake payment provider for tests",
                               capabilities={Capability.WEBHOOKS, Capability.DOMAIN_EVENTS})

    @hookimpl
    def verify_webhook(self, request: InboundRequest) -> list[InboundEvent]:
        given = request.headers.get("x-fake-signature", "")
        if not hmac.compare_digest(given, sign(request.body)):
            raise WebhookRejected("The x-fake-signature header does not match the body; check the signing secret.",
                                  code="signature_invalid", http_status=401)
        try:
            payload = json.loads(request.body)
        except ValueError as exc:
            raise WebhookRejected("The body is not valid JSON.", code="malformed_json") from exc
        if not isinstance(payload, dict) or "id" not in payload:
            raise WebhookRejected("The body is not a Fake Pay event.", code="malformed_event")
        if self.broken_verify:
            return [InboundEvent(external_id="", type=payload["type"], payload=payload)]
        return [InboundEvent(external_id=payload["id"], type=payload["type"], payload=payload,
                             account=payload.get("account"))]

    @hookimpl
    def handle_event(self, ctx: Any, event: StoredEvent) -> list[NewDomainEvent]:
        self.started.release()
        if self.gate is not None:
            assert self.gate.wait(timeout=30), "the test never let the handler finish"
        if self.delay:
            time.sleep(self.delay)
        if self.barrier is not None:
            self.barrier.wait(timeout=10)  # raises BrokenBarrierError if the others never come
        with self._lock:
            self.handled.append(event.id)
            if self.fail_times > 0:
                self.fail_times -= 1
                raise RuntimeError("the fake provider is down")
        if event.external_id in self.invalid_for:
            return [NewDomainEvent(type="purchase.completed", data={"amount": "lots"})]
        if event.type == "thing.ignored":
            raise IgnoreEvent("test-mode event on a live connection")
        if event.type == "thing.notify":  # a delivery of the plugin's own, unsigned
            ctx.deliver(to=event.payload["target"], json={"note": "hello"}, event_type="fake.note")
            return []
        if event.type == "account.closed":
            ctx.mark_disconnected("The account was closed at Fake Pay.")
            return []
        if event.type != "thing.paid":
            return []
        data = event.payload["data"]
        return [NewDomainEvent(type="purchase.completed", data={
            "offer_id": "off_1", "offer_title": "Watercolour basics", "buyer_email": data["email"],
            "amount": data["amount"], "currency": data["currency"], "provider": "fake",
            "provider_account": event.account})]


@attrs.define
class Receiver:
    """A local webhook receiver: answers from a script of statuses and records every request."""

    script: list[tuple[int, dict[str, str]]] = attrs.field(factory=list)
    requests: list[tuple[bytes, dict[str, str]]] = attrs.field(factory=list)
    delay: float = 0.0

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            import asyncio

            body = await request.body()
            self.requests.append((body, dict(request.headers)))
            if self.delay:
                await asyncio.sleep(self.delay)
            status, headers = self.script.pop(0) if self.script else (200, {})
            return JSONResponse({"ok": status < 300}, status_code=status, headers=headers)

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])
