"""The host's contract, checked by the test kit's conformance suite."""

from core.testing import IntegrationConformance

import intellectra_slack


class TestSlackConformance(IntegrationConformance):
    plugin = intellectra_slack
    name = "slack"
