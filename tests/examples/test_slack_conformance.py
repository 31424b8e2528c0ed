"""The example Slack plugin passes the host's conformance suite, in the project's own test run (for CI).

The module is loaded from its source file, not installed: conformance needs the module, and
installing the distribution here would make its entry point visible to every other test.
test_slack_example.py covers the installed distribution.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from plugin_guide import EXAMPLE

from core.testing import IntegrationConformance


def load_example() -> ModuleType:
    if "intellectra_slack" in sys.modules:
        return sys.modules["intellectra_slack"]
    spec = importlib.util.spec_from_file_location("intellectra_slack",
                                                  EXAMPLE / "src" / "intellectra_slack" / "__init__.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["intellectra_slack"] = module  # cattrs resolves the config class's annotations through it
    spec.loader.exec_module(module)
    return module


class TestSlackExampleConformance(IntegrationConformance):
    plugin = load_example()
    name = "slack"


def test_the_plugin_is_under_150_lines():
    source = EXAMPLE / "src" / "intellectra_slack" / "__init__.py"
    assert len(source.read_text(encoding="utf-8").splitlines()) < 150
