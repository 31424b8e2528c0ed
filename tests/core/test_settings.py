"""Settings from the environment: a wrong value is a ConfigError naming the variable, not a traceback."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import Settings


@pytest.mark.parametrize("value", ["512k", "-1", "0"])
def test_a_bad_max_body_bytes_names_the_variable(value):
    with pytest.raises(ConfigError, match="INTELLECTRA_MAX_BODY_BYTES"):
        Settings.from_env({"INTELLECTRA_MAX_BODY_BYTES": value})


def test_max_body_bytes_is_read_from_the_environment():
    assert Settings.from_env({"INTELLECTRA_MAX_BODY_BYTES": "1024"}).max_body_bytes == 1024
    assert Settings.from_env({}).max_body_bytes == 512 * 1024


def test_the_retired_dev_switch_is_refused_naming_what_replaces_each_of_its_parts():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"INTELLECTRA_DEV": "1"})

    message = refused.value.message
    assert "INTELLECTRA_DEV is no longer read" in message
    assert "serve --sandbox" in message and "INTELLECTRA_SECRET_KEYS" in message
    assert "INTELLECTRA_ALLOW_LOOPBACK_TARGETS=1" in message
    assert "\n" not in message


@pytest.mark.parametrize("environ", [
    {},
    {"INTELLECTRA_ALLOW_LOOPBACK_TARGETS": "1"},
    {"INTELLECTRA_DEMO_SIGN_IN": "1", "INTELLECTRA_SANDBOX": "1", "INTELLECTRA_DEMO": "1"},
])
def test_no_environment_variable_enables_demo_sign_in_or_a_throwaway_key(environ):
    settings = Settings.from_env(environ)

    assert settings.demo_sign_in is False
    assert settings.throwaway_secret_key is False


def test_loopback_delivery_targets_have_their_own_switch():
    assert Settings.from_env({"INTELLECTRA_ALLOW_LOOPBACK_TARGETS": "1"}).allow_loopback_targets is True
    assert Settings.from_env({}).allow_loopback_targets is False


def test_the_plugin_lane_size_and_time_budget_are_read_from_the_environment():
    settings = Settings.from_env({"INTELLECTRA_PLUGIN_CONCURRENCY": "3", "INTELLECTRA_PLUGIN_TIMEOUT": "2.5"})
    assert (settings.plugin_concurrency, settings.plugin_timeout_seconds) == (3, 2.5)
    assert (Settings.from_env({}).plugin_concurrency, Settings.from_env({}).plugin_timeout_seconds) == (8, 30.0)


@pytest.mark.parametrize(("name", "value"), [("INTELLECTRA_PLUGIN_CONCURRENCY", "0"),
                                             ("INTELLECTRA_PLUGIN_CONCURRENCY", "many"),
                                             ("INTELLECTRA_PLUGIN_TIMEOUT", "-1"),
                                             ("INTELLECTRA_PLUGIN_TIMEOUT", "nan"),
                                             ("INTELLECTRA_PLUGIN_TIMEOUT", "30s")])
def test_a_bad_plugin_lane_setting_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
