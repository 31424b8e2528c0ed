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


def test_call_hook_calls_one_hook_with_its_context_and_connect_directly_skips_connect(make_host):
    from core import Connected, ConnectionState
    from core.testing import call_hook, connect_directly

    module = hello()
    module.CALLS.clear()
    host = make_host(plugins={"hello": module}, config={"hello": {"greeting": "hi"}})
    tenant, _ = host.tenants.create("Site")

    connection = connect_directly(host, tenant, "hello", Connected(external_id="acct_1", secrets={"token": "t"}))
    status = call_hook(host, "hello", "status", tenant=tenant, refresh=False)

    assert connection.state is ConnectionState.CONNECTED and connection.tenant_id == tenant.id
    calls = list(module.CALLS)
    assert calls == [("status", tenant.id)], "connect_directly did not call connect; call_hook called status"
    assert status.reason == "hi, acct_1"  # the hook's ctx had the config, and the stored connection was passed
