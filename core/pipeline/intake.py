"""Intake: ``POST /webhooks/<integration>`` → verified, stored once, committed, then 2xx.

The plugin's ``verify_webhook`` checks the raw bytes and parses them; the host checks what it
returned (never stores an invalid event), inserts each event once per (integration, external id)
and answers only after the commit. Every refusal has a status code, a message that says what to
do, a log line and a counter.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers

from core.errors import IntellectraError, PluginBusy, PluginError, PluginTimeout, WebhookRejected
from core.ids import new_id
from core.models import InboundEvent, InboundRequest
from core.pipeline.group_commit import GroupCommitWriter, insert_events
from core.pipeline.metrics import UNKNOWN, Metrics
from core.redact import redact
from core.telemetry import note_stored, traced_intake

if TYPE_CHECKING:
    from core.pipeline.ports import PipelineHost

log = logging.getLogger("intellectra.pipeline.intake")

MAX_EXTERNAL_ID = 255
MAX_TYPE = 200
MAX_ACCOUNT = 255


@attrs.frozen(kw_only=True)
class IntakeResult:
    """What the web layer answers: ``JSONResponse(body, status_code, headers)``."""

    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class Refused(Exception):
    """An intake refusal on its way to becoming an ``IntakeResult``."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class Intake:
    def __init__(self, host: PipelineHost, metrics: Metrics, *, max_group: int = 512) -> None:
        self.host = host
        self.metrics = metrics
        self.writer = GroupCommitWriter(lambda: host.store.engine, max_group=max_group)

    # ------------------------------------------------------------------ the two entry points
    @traced_intake
    async def receive(self, integration: str, body: bytes, headers: Mapping[str, str]) -> IntakeResult:
        """Verify (on the plugin's lane of threads), store (group commit) and answer, all off the event
        loop: a slow ``verify_webhook`` holds up only its own integration. Never raises for bad input."""
        verified: list[list[dict[str, Any]]] = []

        def store(rows: list[dict[str, Any]], loop: asyncio.AbstractEventLoop,
                  waiter: asyncio.Future[set[str]]) -> None:
            verified.append(rows)
            self.writer.enqueue(rows, loop, waiter)

        try:
            self._integration(integration, need_verify=True)
            # The plugin's thread hands the rows straight to the writer: the loop wakes once, when committed.
            inserted = await self.host.plugin_pool.run_then(self.host.plugins.lane_of(integration), "verify_webhook",
                                                            self._verify, store, integration, body, headers)
            (rows,) = verified
        except Refused as refusal:
            return self._refused(integration, refusal)
        except (PluginBusy, PluginTimeout) as exc:  # out of its time budget: the sender should try again
            return self._refused(integration, Refused(exc.http_status, exc.code, exc.message,
                                                      headers={"Retry-After": "5"}))
        except SQLAlchemyError as exc:
            return self._refused(integration, self._store_down(exc))
        return self._accepted(integration, rows, inserted)

    @traced_intake
    def receive_sync(self, integration: str, body: bytes, headers: Mapping[str, str]) -> IntakeResult:
        """The same as :meth:`receive` for synchronous callers: stores in the calling thread."""
        try:
            rows = self._verified_rows(integration, body, headers)
            inserted = insert_events(self.host.store.engine, rows)
        except Refused as refusal:
            return self._refused(integration, refusal)
        except SQLAlchemyError as exc:
            return self._refused(integration, self._store_down(exc))
        return self._accepted(integration, rows, inserted)

    def store_events(self, integration: str, events: Sequence[InboundEvent]) -> IntakeResult:
        """Store events a plugin fetched from its provider's API (missed-event recovery).

        No signature to check: the plugin got them over its own authenticated API. Duplicates of
        events already received are skipped, exactly as for webhooks.
        """
        try:
            self._integration(integration, need_verify=False)
            rows = self._rows(integration, events)
            inserted = insert_events(self.host.store.engine, rows)
        except Refused as refusal:
            return self._refused(integration, refusal)
        except SQLAlchemyError as exc:
            return self._refused(integration, self._store_down(exc))
        return self._accepted(integration, rows, inserted)

    def close(self) -> None:
        self.writer.close()

    # ------------------------------------------------------------------ steps
    def _verified_rows(self, integration: str, body: bytes, headers: Mapping[str, str]) -> list[dict[str, Any]]:
        self._integration(integration, need_verify=True)
        return self._verify(integration, body, headers)

    def _verify(self, integration: str, body: bytes, headers: Mapping[str, str]) -> list[dict[str, Any]]:
        """The plugin's ``verify_webhook``, then its events checked and made rows (the integration is checked)."""
        if not isinstance(headers, Headers):  # plugins always get case-insensitive headers
            headers = Headers(headers=dict(headers))
        content_type = headers.get("content-type", "")
        if not is_json_content_type(content_type):
            raise Refused(415, "unsupported_media_type",
                          f"Webhooks must be sent as application/json, not {content_type or 'no content type'!r}.")
        request = InboundRequest(integration=integration, body=body, headers=headers, content_type=content_type)
        try:
            events = self.host.plugins.call(integration, "verify_webhook", ctx=self.host.context(integration),
                                            request=request)
        except WebhookRejected as exc:
            status = exc.http_status if 400 <= exc.http_status < 500 else 400
            raise Refused(status, exc.code, exc.message) from exc
        except PluginError as exc:  # the plugin crashed: not the sender's fault, so let it retry
            raise Refused(exc.http_status, exc.code, exc.message) from exc
        except IntellectraError as exc:
            raise Refused(exc.http_status, exc.code, exc.message) from exc
        return self._rows(integration, events)

    def _integration(self, integration: str, *, need_verify: bool) -> None:
        record = self.host.plugins.records.get(integration)
        if record is None or record.builtin or record.state.value != "loaded":
            raise Refused(404, "integration_not_found",
                          f"No integration {integration!r} receives webhooks here; check the webhook URL "
                          "(POST /webhooks/<integration>).")
        if need_verify and not self.host.plugins.implements(integration, "verify_webhook"):
            raise Refused(404, "webhooks_not_supported",
                          f"The {integration} integration does not receive webhooks; check the webhook URL.")

    def _rows(self, integration: str, events: Any) -> list[dict[str, Any]]:
        """Check what the plugin returned and turn it into rows; a bad event refuses the request."""
        if isinstance(events, InboundEvent):
            events = [events]
        if not isinstance(events, Sequence) or isinstance(events, str | bytes):
            raise self._plugin_bug(integration, f"verify_webhook returned {type(events).__name__}, "
                                                "expected a list of core.InboundEvent")
        now = self.host.clock.now()
        rows: list[dict[str, Any]] = []
        for event in events:
            problem = _invalid(event)
            if problem:
                raise self._plugin_bug(integration, problem)
            try:
                payload = json.dumps(dict(event.payload), separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise self._plugin_bug(integration, f"event {event.external_id!r} has a payload that is not "
                                                    f"JSON ({exc})") from exc
            rows.append(dict(id=new_id("inb"), integration=integration, external_id=event.external_id,
                             type=event.type, account=event.account, livemode=event.livemode, tenant_id=None,
                             payload=payload, status="pending", attempts=0, next_attempt_at=now,
                             received_at=now))
        return rows

    def _plugin_bug(self, integration: str, problem: str) -> Refused:
        record = self.host.plugins.records[integration]
        error = self.host.plugins.record_runtime_error(record, "verify_webhook", TypeError(problem))
        return Refused(error.http_status, "plugin_failed", error.message)

    @staticmethod
    def _store_down(exc: SQLAlchemyError) -> Refused:
        log.error("intake could not store an event: %s", redact(f"{exc.__class__.__name__}: {exc}")[:500])
        return Refused(503, "store_unavailable",
                       "The event store is unavailable, so the event was not accepted; send it again later.",
                       headers={"Retry-After": "5"})

    # ------------------------------------------------------------------ answers
    def _accepted(self, integration: str, rows: Sequence[dict[str, Any]], inserted: set[str]) -> IntakeResult:
        note_stored(rows, inserted)
        received = len(inserted)
        duplicates = len(rows) - received
        self.metrics.incr("intake", "accepted", integration, by=received)
        self.metrics.incr("intake", "duplicates", integration, by=duplicates)
        if received:
            self.host.pipeline.notify_new_events()
        return IntakeResult(status_code=200, body={"received": received, "duplicates": duplicates})

    def _refused(self, integration: str, refusal: Refused) -> IntakeResult:
        known = integration in self.host.plugins.records and not self.host.plugins.records[integration].builtin
        name = integration if known else UNKNOWN
        self.metrics.incr("intake", "rejected", name, refusal.code)
        message = redact(refusal.message)
        log.warning("webhook to %s refused with %d %s: %s", name, refusal.status, refusal.code, message)
        return IntakeResult(status_code=refusal.status, body={"error": {"code": refusal.code, "message": message}},
                            headers=refusal.headers)


def _invalid(event: Any) -> str | None:
    """Why ``event`` cannot be stored, or ``None``."""
    if not isinstance(event, InboundEvent):
        return f"verify_webhook returned a {type(event).__name__}, expected core.InboundEvent"
    if not isinstance(event.external_id, str) or not event.external_id or len(event.external_id) > MAX_EXTERNAL_ID:
        return f"an event's external_id must be a non-empty string of at most {MAX_EXTERNAL_ID} characters"
    if not isinstance(event.type, str) or not event.type or len(event.type) > MAX_TYPE:
        return f"event {event.external_id!r} needs a type: a non-empty string of at most {MAX_TYPE} characters"
    if event.account is not None and (not isinstance(event.account, str) or len(event.account) > MAX_ACCOUNT):
        return f"event {event.external_id!r} has an account that is not a string of at most {MAX_ACCOUNT} characters"
    if not isinstance(event.payload, Mapping):
        return f"event {event.external_id!r} has a {type(event.payload).__name__} payload, expected a JSON object"
    return None
