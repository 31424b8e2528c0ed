"""Pipeline settings from the environment, backoff growth, and reading ``Retry-After``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ConfigError
from core.pipeline.config import DELIVERY_SCHEDULE, PipelineConfig
from core.pipeline.retry_after import parse_retry_after

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_defaults_follow_the_standard_webhooks_schedule_and_eight_attempts():
    config = PipelineConfig.from_env({})
    assert config.delivery_schedule == DELIVERY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert config.max_attempts == 8
    assert config.delivery_timeout_seconds == 10


def test_settings_are_read_from_the_environment():
    config = PipelineConfig.from_env({"INTELLECTRA_PIPELINE_LEASE_SECONDS": "2.5",
                                      "INTELLECTRA_PIPELINE_MAX_ATTEMPTS": "3",
                                      "INTELLECTRA_PIPELINE_DELIVERY_SCHEDULE": "1, 2,3"})
    assert (config.lease_seconds, config.max_attempts, config.delivery_schedule) == (2.5, 3, (1.0, 2.0, 3.0))


def test_a_setting_that_is_not_a_number_names_the_variable():
    with pytest.raises(ConfigError, match="INTELLECTRA_PIPELINE_BATCH_SIZE='many' is not a number"):
        PipelineConfig.from_env({"INTELLECTRA_PIPELINE_BATCH_SIZE": "many"})


def test_a_setting_that_is_not_positive_is_refused():
    with pytest.raises(ConfigError, match="lease_seconds must be > 0"):
        PipelineConfig(lease_seconds=0)


def test_processing_backoff_doubles_up_to_its_cap():
    config = PipelineConfig(retry_base_seconds=30, retry_max_seconds=100)
    assert [config.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


@pytest.mark.parametrize(("value", "expected"), [
    ("120", timedelta(seconds=120)),
    ("Thu, 01 Jan 2026 00:10:00 GMT", timedelta(minutes=10)),
    ("Wed, 31 Dec 2025 23:00:00 GMT", timedelta(0)),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_is_read_as_seconds_or_an_http_date(value, expected):
    assert parse_retry_after(value, NOW) == expected
