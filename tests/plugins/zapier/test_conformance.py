"""The Zapier plugin honours the host's plugin contract."""

from __future__ import annotations

import plugins.zapier
from core.testing import IntegrationConformance


class TestConformance(IntegrationConformance):
    plugin = plugins.zapier
    name = "zapier"
    config = {"requests_per_minute": 60}
