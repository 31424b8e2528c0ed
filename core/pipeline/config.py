"""The pipeline's knobs: batch sizes, leases, retry schedules, delivery timeouts.

Defaults suit one embedded process; every value can be set from the environment
(``INTELLECTRA_PIPELINE_*``) so operators tune workers without code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from core.errors import ConfigError

DELIVERY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
"""Seconds to wait after each failed delivery attempt (Standard Webhooks' schedule); then ``dead``."""


def _positive(instance: Any, attribute: Any, value: Any) -> None:
    if value <= 0:
        raise ConfigError(f"pipeline setting {attribute.name} must be > 0, got {value!r}", code="config_invalid")


@attrs.frozen(kw_only=True)
class PipelineConfig:
    """How workers claim, retry and send. Immutable; ``Pipeline.configure`` swaps in a new one."""

    batch_size: int = attrs.field(default=200, validator=_positive)
    """Events claimed per processing batch (bounded memory: a backlog is never loaded whole)."""
    lease_seconds: float = attrs.field(default=60.0, validator=_positive)
    """How long a claim lasts; a worker that dies loses its claims after this long. A live worker renews
    its claims every third of it while their handlers run."""
    max_hold_seconds: float = attrs.field(default=900.0, validator=_positive)
    """Longest a worker keeps renewing the claims of handlers still running: a handler stuck past it lets
    its events pass to another worker (its own results are then dropped)."""
    max_attempts: int = attrs.field(default=8, validator=_positive)
    """Handler runs of an inbound event before it is ``failed``; also how many claims of it may end without
    a result (its worker died) before it is ``failed`` as an event that kills workers."""
    retry_base_seconds: float = attrs.field(default=30.0, validator=_positive)
    retry_max_seconds: float = attrs.field(default=6 * 3600.0, validator=_positive)
    handler_concurrency: int = attrs.field(default=8, validator=_positive)
    """Handlers of one batch run on this many threads: a handler that asks its provider something (Stripe's
    ``account.updated`` re-fetches the account) waits on the network, and a batch must not wait for each
    in turn. 1 runs them one after another."""
    delivery_batch_size: int = attrs.field(default=200, validator=_positive)
    delivery_concurrency: int = attrs.field(default=64, validator=_positive)
    delivery_timeout_seconds: float = attrs.field(default=10.0, validator=_positive)
    delivery_lease_seconds: float = attrs.field(default=120.0, validator=_positive)
    delivery_schedule: tuple[float, ...] = attrs.field(default=DELIVERY_SCHEDULE, converter=tuple)
    idle_seconds: float = attrs.field(default=0.25, validator=_positive)
    """How long an idle worker sleeps before looking for due work again."""
    intake_max_group: int = attrs.field(default=512, validator=_positive)
    """Most webhook requests that share one intake commit."""

    def retry_delay(self, attempts: int) -> timedelta:
        """Backoff after the ``attempts``-th failed processing attempt: base * 2^(n-1), capped."""
        seconds = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(attempts - 1, 0))
        return timedelta(seconds=seconds)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PipelineConfig:
        """Read ``INTELLECTRA_PIPELINE_<FIELD>`` overrides (e.g. ``INTELLECTRA_PIPELINE_LEASE_SECONDS``)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in attrs.fields(cls):
            raw = env.get(f"INTELLECTRA_PIPELINE_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                if field.name == "delivery_schedule":
                    values[field.name] = tuple(float(p) for p in raw.split(",") if p.strip())
                elif field.type in (int, "int"):
                    values[field.name] = int(raw)
                else:
                    values[field.name] = float(raw)
            except ValueError as exc:
                raise ConfigError(f"INTELLECTRA_PIPELINE_{field.name.upper()}={raw!r} is not a number; "
                                  "set a number (a comma-separated list for the delivery schedule)",
                                  code="config_invalid") from exc
        return cls(**values)  # type: ignore[arg-type]
