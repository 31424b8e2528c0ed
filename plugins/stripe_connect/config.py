"""The plugin's ``[plugins.stripe_connect.config]`` table, validated by the host through cattrs."""

from __future__ import annotations

import os
from decimal import Decimal

import attrs

from core import Secret

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_CONNECT_BASE = "https://connect.stripe.com"
DEFAULT_DASHBOARD_URL = "https://dashboard.stripe.com"


def _env_or(name: str, default: str) -> str:
    """The environment contract: ``STRIPE_API_BASE`` / ``STRIPE_CONNECT_BASE`` unset means Stripe itself."""
    return os.environ.get(name) or default


def _percent(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value <= 100:
        raise ValueError(f"'{attribute.name}' must be >= 0 and <= 100 (a percentage of each sale): {value}")
    # Stripe refuses a subscription's application_fee_percent with more than two decimal places, and
    # would only say so when a buyer opens checkout: refuse it when the plugin loads instead.
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"'{attribute.name}' must have at most two decimal places (Stripe's limit for "
                         f"subscriptions), e.g. 2.5 or 10.25: {value}")


def _platform_key(instance: object, attribute: attrs.Attribute[Secret], value: Secret) -> None:
    if not value.reveal().startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        raise ValueError(f"'{attribute.name}' must be a Stripe secret key (sk_test_... or sk_live_...) from "
                         "Developers > API keys")


def _client_id(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith("ca_"):
        raise ValueError(f"'{attribute.name}' must be your platform's Connect client id (ca_...) from Settings > "
                         f"Connect: {value}")


def _timeout(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 60:
        raise ValueError(f"'{attribute.name}' must be > 0 and <= 60 (seconds Stripe may stay silent on a request): "
                         f"{value}")


def _retries(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 5:
        raise ValueError(f"'{attribute.name}' must be between 0 and 5 (retries of a request that failed on the "
                         f"network): {value}")


def _base(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"'{attribute.name}' must be an http(s) URL: {value}")


@attrs.frozen(kw_only=True)
class StripeConnectConfig:
    """What the platform needs to talk to Stripe on behalf of its creators.

    ``webhook_secrets`` is comma-separated so a rotated secret and its successor both verify.
    The bases point at Stripe; only development (the sandbox) changes them.
    """

    secret_key: Secret = attrs.field(validator=_platform_key)
    client_id: str = attrs.field(validator=_client_id)
    webhook_secrets: Secret = attrs.field(factory=lambda: Secret(""))
    application_fee_percent: float = attrs.field(default=0.0, converter=float, validator=_percent)
    api_base: str = attrs.field(factory=lambda: _env_or("STRIPE_API_BASE", DEFAULT_API_BASE), validator=_base)
    connect_base: str = attrs.field(factory=lambda: _env_or("STRIPE_CONNECT_BASE", DEFAULT_CONNECT_BASE),
                                    validator=_base)
    dashboard_url: str = attrs.field(default=DEFAULT_DASHBOARD_URL, validator=_base)
    webhook_tolerance: int = 300
    request_timeout_seconds: float = attrs.field(default=15.0, converter=float, validator=_timeout)
    """How long Stripe may stay silent on one request (connecting: at most 5 s; waiting for its answer)
    before the request counts as failed and is retried. (retries + 1) x this stays well inside a worker's
    60 s claim on an event."""
    max_network_retries: int = attrs.field(default=2, validator=_retries)

    @property
    def livemode(self) -> bool:
        """The mode of the platform key: a test key never acts on live connections."""
        return "_live_" in self.secret_key.reveal()[:8]

    def signing_secrets(self) -> list[str]:
        """Every configured webhook signing secret (rotation: old and new both verify)."""
        return [s.strip() for s in self.webhook_secrets.reveal().split(",") if s.strip()]

    def dashboard_for(self, account_id: str | None) -> str:
        """Where the creator fixes things: their account in the Stripe dashboard."""
        base = self.dashboard_url.rstrip("/")
        return f"{base}/{account_id}" if account_id else base
