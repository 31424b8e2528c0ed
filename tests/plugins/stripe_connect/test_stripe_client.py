"""The Stripe client gives up in bounded time and goes where the host lets plugins go.

* A timeout on every request and a limit on retries: without them a Stripe that accepts connections
  and never answers held a worker's handler for 80 s per try (the stripe library's default), retried,
  well past the worker's claim on the event.
* Every request goes through ``ctx.http``, the host's guarded client: a Stripe base on a loopback or
  private address is refused in production (nothing connects), allowed on loopback in development.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import stripe
from stripe_kit import SECRET_KEY, plugin_config

import plugins.stripe_connect
from core import IntegrationContext, Secret
from plugins.stripe_connect.client import make_client
from plugins.stripe_connect.config import StripeConnectConfig

NAME = "stripe_connect"


class SilentServer:
    """Accepts TCP connections on loopback and never answers (a Stripe that hangs)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.socket.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_stripe():
    server = SilentServer()
    yield server
    server.close()


def config(api_base: str, **changes: object) -> StripeConnectConfig:
    return StripeConnectConfig(secret_key=Secret(SECRET_KEY), client_id="ca_test_client", api_base=api_base,
                               connect_base=api_base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def stripe_context(make_host):
    """``ctx`` of the Stripe plugin on a host, pointed at ``api_base``, in development mode or not."""
    def build(api_base: str, *, loopback_allowed: bool = True, **changes: object) -> IntegrationContext:
        host = make_host(plugins={NAME: plugins.stripe_connect}, config={NAME: plugin_config(api_base, **changes)},
                         settings={"allow_loopback_targets": loopback_allowed})
        return host.context(NAME)
    return build


def test_a_stripe_that_never_answers_fails_after_the_timeout_and_the_retry_limit(silent_stripe, stripe_context):
    client = make_client(stripe_context(silent_stripe.url, request_timeout_seconds=0.5, max_network_retries=1))
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.accounts.retrieve("acct_1")
    elapsed = time.monotonic() - started
    assert len(silent_stripe.accepted) == 2, "one request and one retry"
    assert elapsed < 5, f"gave up after {elapsed:.1f} s"


def test_the_default_timeout_and_retries_fit_well_inside_a_workers_lease():
    from core.pipeline import PipelineConfig

    default = config("https://api.stripe.com")
    worst = (default.max_network_retries + 1) * default.request_timeout_seconds + default.max_network_retries * 5
    assert worst < PipelineConfig().lease_seconds


@pytest.mark.parametrize(("key", "value", "complaint"), [
    ("request_timeout_seconds", 0, "must be > 0 and <= 60"),
    ("request_timeout_seconds", 600, "must be > 0 and <= 60"),
    ("max_network_retries", -1, "must be between 0 and 5"),
    ("max_network_retries", 50, "must be between 0 and 5"),
])
def test_timeouts_and_retries_out_of_range_are_refused(key, value, complaint):
    with pytest.raises(ValueError, match=complaint):
        config("https://api.stripe.com", **{key: value})


def test_in_production_a_stripe_base_on_loopback_is_refused_and_nothing_connects(silent_stripe, stripe_context):
    client = make_client(stripe_context(silent_stripe.url, loopback_allowed=False, max_network_retries=1))

    with pytest.raises(stripe.APIConnectionError, match="public addresses only"):
        client.v1.accounts.retrieve("acct_1")

    time.sleep(0.2)
    assert silent_stripe.accepted == [], "not even a connection was opened"


@pytest.mark.parametrize("base", ["http://10.255.255.1:9", "http://169.254.169.254"])
def test_a_stripe_base_on_a_private_address_is_refused_even_in_development(stripe_context, base):
    client = make_client(stripe_context(base, max_network_retries=0))
    started = time.monotonic()

    with pytest.raises(stripe.APIConnectionError, match="public addresses only"):
        client.v1.accounts.retrieve("acct_1")
    assert time.monotonic() - started < 2, "refused before any attempt to connect"
