"""The plugin against the host's contract (the test kit's conformance suite)."""

from __future__ import annotations

from stripe_kit import NAME, plugin_config

import plugins.stripe_connect
from core.testing import IntegrationConformance


class TestConformance(IntegrationConformance):
    plugin = plugins.stripe_connect
    name = NAME
    config = plugin_config("http://127.0.0.1:9")
