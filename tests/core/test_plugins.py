"""Loading plugins: by module path and entry point, isolated failures, addressed calls."""

from __future__ import annotations

import sys

import httpx
import pytest

from core.errors import PluginError, PluginNotLoaded
from core.plugins import PluginState
from core.web.app import create_app

HELLO = {"module": "hello_module", "config": {"greeting": "hi"}}


def registry(**plugins):
    return {"plugins": plugins}


def test_a_plugin_loads_from_the_registry_by_module_path(make_host, fixture_plugins):
    host = make_host(registry=registry(hello=HELLO))
    record = host.plugins.records["hello"]
    assert record.state is PluginState.LOADED
    assert record.source == "module:hello_module"
    assert record.info.title == "Hello"
    assert record.config.greeting == "hi"


def test_a_plugin_loads_from_an_installed_distribution_through_its_entry_point(make_host, installed_hello_dist):
    host = make_host(registry=registry(greeter={"entry_point": "greeter"}))
    record = host.plugins.records["greeter"]
    assert record.state is PluginState.LOADED, record.error
    assert record.version == "2.3.0"
    assert record.source == "entry_point:intellectra-hello-dist==2.3.0"


def test_an_entry_point_plugin_the_registry_does_not_name_is_listed_but_not_loaded(make_host, installed_hello_dist):
    host = make_host(registry={})
    record = host.plugins.records["greeter"]
    assert record.state is PluginState.DISABLED
    assert "not named in registry.toml" in record.error
    assert "intellectra_hello" not in sys.modules or record.plugin is None


def test_autoload_loads_entry_point_plugins_the_registry_does_not_name(make_host, installed_hello_dist):
    host = make_host(registry={"autoload": True})
    assert host.plugins.records["greeter"].state is PluginState.LOADED


def test_a_disabled_plugin_is_listed_and_its_module_never_imported(make_host, fixture_plugins):
    host = make_host(registry=registry(hello={**HELLO, "enabled": False}))
    assert host.plugins.records["hello"].state is PluginState.DISABLED
    assert "hello_module" not in sys.modules


def test_intellectra_plugins_limits_what_loads(make_host, fixture_plugins, monkeypatch):
    monkeypatch.setenv("INTELLECTRA_PLUGINS", "other")
    host = make_host(registry=registry(hello=HELLO, other={"module": "other_module"}))
    assert host.plugins.records["other"].state is PluginState.LOADED
    assert host.plugins.records["hello"].state is PluginState.DISABLED
    assert host.plugins.records["hello"].error == "not in INTELLECTRA_PLUGINS"


class TestIsolation:
    """Each of the four failures is recorded with the plugin's name; the others keep working."""

    def test_a_plugin_that_fails_to_import_is_recorded_and_the_others_load(self, make_host, fixture_plugins):
        host = make_host(registry=registry(broken={"module": "broken_import"}, hello=HELLO))
        broken = host.plugins.records["broken"]
        assert broken.state is PluginState.FAILED
        assert "failed to import" in broken.error and "a_module_that_does_not_exist" in broken.error
        assert host.plugins.records["hello"].state is PluginState.LOADED

    def test_a_misspelled_hook_is_refused_with_a_suggestion(self, make_host, fixture_plugins):
        host = make_host(registry=registry(misspelled={"module": "misspelled_hook"}, hello=HELLO))
        record = host.plugins.records["misspelled"]
        assert record.state is PluginState.FAILED
        assert "unknown hook(s) 'on_domain_evnt' (did you mean 'on_domain_event'?)" in record.error
        assert host.plugins.records["hello"].state is PluginState.LOADED
        assert host.plugins.pm.get_plugin("misspelled") is None

    def test_invalid_config_fails_the_plugin_with_the_key_path(self, make_host, fixture_plugins):
        host = make_host(registry=registry(hello={"module": "hello_module", "config": {"retries": -1}},
                                           other={"module": "other_module"}))
        record = host.plugins.records["hello"]
        assert record.state is PluginState.FAILED
        assert "plugins.hello.config.retries" in record.error
        assert ">= 0" in record.error
        assert host.plugins.records["other"].state is PluginState.LOADED

    def test_a_plugin_raising_inside_a_hook_is_recorded_and_the_host_keeps_serving(
            self, make_host, fixture_plugins, live_server):
        host = make_host(registry=registry(raising={"module": "raising_module"}, hello=HELLO),
                         settings={"metrics_token": "operator-token"})
        tenant, token = host.tenants.create("Site")
        url = live_server(create_app(host))
        auth = {"Authorization": f"Bearer {token}"}
        response = httpx.post(f"{url}/api/integrations/raising/connect", json={}, headers=auth)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "plugin_failed"
        assert "provider exploded during connect" in response.json()["error"]["message"]
        assert host.plugins.records["raising"].runtime_errors == [
            "connect: RuntimeError: provider exploded during connect"]
        ok = httpx.post(f"{url}/api/integrations/hello/connect", json={"account": "acme", "option": "direct"},
                        headers=auth)
        assert ok.status_code == 201
        health = httpx.get(f"{url}/healthz/details", headers={"Authorization": "Bearer operator-token"}).json()
        raising = next(p for p in health["plugins"] if p["name"] == "raising")
        assert raising["recent_errors"] == ["connect: RuntimeError: provider exploded during connect"]


def test_an_incompatible_host_api_version_is_refused_naming_both_versions(make_host, fixture_plugins):
    host = make_host(registry=registry(future={"module": "future_host"}))
    record = host.plugins.records["future"]
    assert record.state is PluginState.FAILED
    assert "requires host API >=3.0,<4 but this host provides 2.0" in record.error


def test_a_plugin_written_for_host_api_1_is_refused_naming_both_versions(make_host):
    from core import IntegrationInfo, hookimpl

    class OldStyle:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="old", title="Old", description="Written for host API 1.",
                                   requires_host="1.*")

        @hookimpl
        def web_routes(self, host):
            return []

    record = make_host(plugins={"old": OldStyle()}).plugins.records["old"]
    assert record.error is not None
    assert "requires host API 1.* but this host provides 2.0" in record.error


def test_a_plugin_must_declare_the_name_it_is_registered_under(make_host, fixture_plugins):
    host = make_host(registry=registry(hola={"module": "hello_module"}))
    assert "declares name 'hello' but is registered as 'hola'" in host.plugins.records["hola"].error


class TestAddressedCalls:
    def test_an_addressed_hook_reaches_only_the_plugin_that_owns_the_integration(self, make_host, fixture_plugins):
        import hello_module
        import other_module

        host = make_host(registry=registry(hello=HELLO, other={"module": "other_module"}))
        tenant, _ = host.tenants.create("Site")
        hello_module.CALLS.clear()
        other_module.CALLS.clear()
        outcome = host.connect(tenant, "hello", {"account": "acme", "option": "direct"})
        assert outcome.connection.state.value == "connected"
        host.status(tenant, "hello", refresh=True)
        assert other_module.CALLS == []
        assert [("connect", tenant.id), ("status", tenant.id)] == hello_module.CALLS

    def test_an_addressed_call_to_an_integration_that_is_not_loaded_says_so(self, make_host, fixture_plugins):
        host = make_host(registry=registry(broken={"module": "broken_import"}))
        with pytest.raises(PluginNotLoaded, match="integration 'broken' is not loaded .failed: failed to import"):
            host.plugins.call("broken", "status")

    def test_a_broadcast_reaches_every_plugin_and_isolates_a_failing_one(self, make_host, fixture_plugins):
        host = make_host(registry=registry(hello=HELLO, raising={"module": "raising_module"},
                                           other={"module": "other_module"}))
        tenant, _ = host.tenants.create("Site")
        results = host.plugins.broadcast("status", kwargs_for=lambda r: {
            "ctx": host.context(r.name), "tenant": tenant, "connection": None, "refresh": False})
        assert set(results) == {"other"} or set(results) == {"hello", "other"}
        assert host.plugins.records["raising"].runtime_errors


def test_registering_two_plugins_under_one_name_is_refused(make_host, fixture_plugins):
    import hello_module

    host = make_host(registry=registry(hello=HELLO))
    record = host.plugins.register("hello", hello_module)
    assert record.state is PluginState.FAILED
    assert "already loaded" in record.error


def test_a_throwaway_plugin_can_be_registered_and_unregistered(host):
    class Temporary:
        from core import IntegrationInfo, hookimpl

        @hookimpl
        def integration_info(self):
            return self.IntegrationInfo(name="temp", title="Temp", description="Registered by a test.")

    host.plugins.register("temp", Temporary())
    assert [r.name for r in host.plugins.loaded()] == ["temp"]
    host.plugins.unregister("temp")
    assert host.plugins.loaded() == []
    with pytest.raises(PluginNotLoaded):
        host.plugins.get("temp")


def test_plugin_error_is_an_intellectra_error_with_a_code():
    assert PluginError("x").code == "plugin_failed"


def test_dev_servers_get_the_plugins_context_and_base_url_and_their_overrides_become_its_config(make_host):
    import attrs

    from core import DevServer, IntegrationInfo, hookimpl

    @attrs.frozen
    class StandInConfig:
        api_base: str

    seen = {}

    class WithStandIn:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="standin", title="Stand-in", description="Has a development server.",
                                   config=StandInConfig)

        @hookimpl
        def dev_servers(self, ctx, base_url):
            seen.update(integration=ctx.integration, config=ctx.config, base_url=base_url, host=hasattr(ctx, "host"))
            return [DevServer(name="fake", url="http://127.0.0.1:9", stop=lambda: seen.update(stopped=True),
                              config_overrides={"api_base": "http://127.0.0.1:9"})]

    host = make_host(sandbox_base_url="http://127.0.0.1:8000")
    host.plugins.register("standin", WithStandIn())

    assert seen == {"integration": "standin", "config": None, "base_url": "http://127.0.0.1:8000", "host": False}
    assert host.plugins.get("standin").config == StandInConfig(api_base="http://127.0.0.1:9")
    host.close()
    assert seen["stopped"] is True
