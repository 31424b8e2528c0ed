"""Properties under Hypothesis: whatever comes in, the parsers answer with their own error types and the
intake endpoint with a 2xx or a 4xx — never a crash, never a 5xx, never an invalid event in the store —
and every model survives a trip through JSON unchanged.
"""

from __future__ import annotations

import inspect
import json
import time
from typing import Any

import attrs
import pytest
from harness import sizes, strategies
from harness.arena import Arena
from harness.world import CLIENT_ID, SECRET_KEY, WEBHOOK_SECRET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import core.events
import core.models
from core import InboundRequest, Secret, WebhookRejected
from core.converter import converter
from core.errors import ConfigError
from core.plugins import PluginHost, PluginState
from core.registry import RegistryConfig, load_registry, parse_registry
from core.store.tables import inbound_events
from plugins.stripe_connect.config import StripeConnectConfig
from plugins.stripe_connect.webhooks import verify

FUZZ = settings(max_examples=sizes.FUZZ_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# -- the registry -----------------------------------------------------------------------------------------------
@FUZZ
@given(strategies.REGISTRY)
def test_the_registry_parser_accepts_or_names_the_problem(document: dict[str, Any]) -> None:
    try:
        parsed = parse_registry(document)
    except ConfigError as exc:
        assert exc.message.strip()
        return
    assert isinstance(parsed, RegistryConfig)


TOML_LINES = st.lists(st.sampled_from(
    ["[plugins.x]", "module = 'plugins.zapier'", "enabled = true", "autoload = 3", "[plugins.x.config]", "a = [",
     "= 1", "[[plugins]]", 'config = "env:NOPE_NOT_SET"', "[plugins.stripe_connect]", "enabled = 'yes'"]),
    max_size=8).map(lambda lines: "\n".join(lines).encode())


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")) | TOML_LINES)
def test_any_registry_file_loads_or_fails_with_a_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                              content: bytes) -> None:
    path = tmp_path_factory.mktemp("registry") / "registry.toml"
    path.write_bytes(content)
    try:
        load_registry(path)
    except ConfigError as exc:
        assert exc.message.strip()


@FUZZ
@given(strategies.STRIPE_CONFIG)
def test_a_plugin_config_is_loaded_or_the_plugin_fails_alone_naming_the_key_path(config: dict[str, Any]) -> None:
    registry = parse_registry({"plugins": {"stripe_connect": {"module": "plugins.stripe_connect", "config": config},
                                           "zapier": {"module": "plugins.zapier"}}})
    plugins = PluginHost()
    plugins.load_registry(registry)
    stripe, zapier = plugins.records["stripe_connect"], plugins.records["zapier"]
    assert zapier.state is PluginState.LOADED, "another plugin's bad config never stops this one"
    if stripe.state is PluginState.FAILED:
        assert stripe.error and "plugins.stripe_connect.config" in stripe.error
    else:
        assert stripe.state is PluginState.LOADED


# -- the Stripe-Signature header --------------------------------------------------------------------------------
CONFIG = StripeConnectConfig(secret_key=Secret(SECRET_KEY), client_id=CLIENT_ID, webhook_secrets=Secret(WEBHOOK_SECRET))
BODY = json.dumps({"id": "evt_fuzz", "type": "account.updated", "account": "acct_1"}, indent=2).encode()


def verify_with(header: str | None, body: bytes = BODY) -> Any:
    headers = {"content-type": "application/json"} | ({"stripe-signature": header} if header is not None else {})
    return verify(CONFIG, InboundRequest(integration="stripe_connect", body=body, headers=headers,
                                         content_type="application/json"))


@FUZZ
@given(strategies.HEADER_TEXT)
def test_any_signature_header_is_refused_with_a_webhook_rejection(header: str) -> None:
    with pytest.raises(WebhookRejected) as refused:
        verify_with(header)
    assert 400 <= refused.value.http_status < 500


@FUZZ
@given(st.lists(strategies.HEADER_ITEM, max_size=3), st.lists(strategies.HEADER_ITEM, max_size=3))
def test_a_valid_signature_verifies_whatever_else_the_header_carries(before: list[str], after: list[str]) -> None:
    from harness.stripe_events import signature_header

    valid = signature_header(BODY, WEBHOOK_SECRET)
    pieces = [piece for item in before + after for piece in item.split(",")]
    extra = [piece for piece in pieces if piece.split("=", 2)[0] != "t"]  # Stripe sends one timestamp
    header = ",".join([valid, *extra])
    [event] = verify_with(header)
    assert event.external_id == "evt_fuzz"


# -- the intake endpoint -----------------------------------------------------------------------------------------
def assert_store_holds_only_valid_events(arena: Arena) -> None:
    with arena.host.store.read() as c:
        rows = c.execute(select(inbound_events)).all()
    for row in rows:
        payload = json.loads(row.payload)
        assert isinstance(payload, dict)
        assert payload.get("id") == row.external_id and isinstance(row.external_id, str) and row.external_id
        assert payload.get("type") == row.type and isinstance(row.type, str) and row.type
        assert row.account is None or isinstance(row.account, str)


@FUZZ
@given(body=st.data(), content_type=strategies.CONTENT_TYPE, mode=strategies.SIGNATURE_MODE,
       garbage=strategies.HEADER_TEXT)
def test_intake_answers_any_request_with_2xx_or_4xx_and_stores_only_valid_events(
        arena: Arena, body: st.DataObject, content_type: str, mode: str, garbage: str) -> None:
    raw = body.draw(strategies.event_like(arena.a.account))
    signature = strategies.signature_for(mode, raw, WEBHOOK_SECRET, int(time.time()), garbage)
    headers = {"Content-Type": content_type} if content_type else {}
    if signature is not None:
        printable = "".join(ch for ch in signature if 32 <= ord(ch) < 127)  # what an HTTP header can carry
        headers["Stripe-Signature"] = printable.strip()

    answer = arena.http.post(f"{arena.url}/webhooks/stripe_connect", content=raw, headers=headers)

    assert answer.status_code < 500, answer.text[:300]
    if not answer.is_success:
        assert answer.json()["error"]["code"]
    assert_store_holds_only_valid_events(arena)


# -- models through JSON ----------------------------------------------------------------------------------------
NOT_DATA = {
    core.models.IntegrationInfo: "carries the plugin's config class, not data",
    core.models.InboundRequest: "raw request bytes, never serialised",
    core.events.EventType: "a catalogue entry holding a schema class",
}


def models() -> list[type]:
    found = []
    for module in (core.models, core.events):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if attrs.has(cls) and cls.__module__ == module.__name__ and cls not in NOT_DATA:
                found.append(cls)
    return found


def test_every_model_is_fuzzed() -> None:
    assert len(models()) >= 20, [m.__name__ for m in models()]


@pytest.mark.parametrize("cls", models(), ids=lambda c: c.__name__)
def test_every_model_round_trips_through_json(cls: type) -> None:
    @settings(max_examples=max(20, sizes.FUZZ_EXAMPLES // 3), deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(strategies.model(cls))
    def round_trip(value: Any) -> None:
        as_json = json.loads(json.dumps(converter.unstructure(value)))
        assert converter.structure(as_json, cls) == value

    round_trip()

