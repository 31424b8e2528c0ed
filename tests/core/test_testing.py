"""The test kit itself: the conformance suite passes a well-behaved plugin and catches a bad one."""

from __future__ import annotations

import pytest

from core.testing import IntegrationConformance


@pytest.fixture(autouse=True)
def _plugins_on_path(fixture_plugins):
    return fixture_plugins


def hello():
    import hello_module

    return hello_module


class TestHelloPassesTheConformanceSuite(IntegrationConformance):
    name = "hello"
    config = {"greeting": "hi"}

    @pytest.fixture(autouse=True)
    def _plugin(self):
        type(self).plugin = hello()


def test_the_conformance_suite_catches_an_undeclared_hook(make_host):
    from core import Capability, IntegrationInfo, hookimpl

    class Liar:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="liar", title="Liar", description="Declares webhooks it cannot verify.",
                                   capabilities={Capability.WEBHOOKS})

    suite = IntegrationConformance()
    suite.name, suite.plugin, suite.config = "liar", Liar(), {}
    host = make_host(plugins={"liar": suite.plugin})
    with pytest.raises(AssertionError, match="declares webhooks but cannot verify them"):
        suite.test_addressed_hooks_are_implemented_as_declared(host)


def test_the_manual_clock_moves_only_when_told(clock):
    start = clock.now()
    assert clock.now() == start
    assert (clock.advance(seconds=90) - start).total_seconds() == 90
