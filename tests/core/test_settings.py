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
