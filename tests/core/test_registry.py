"""registry.toml: structure, env: secrets, and configuration errors that name the key path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ConfigError
from core.plugins import PluginState
from core.registry import load_registry, parse_registry, resolve_env


def test_a_registry_file_is_read_with_its_plugin_tables(tmp_path):
    path = tmp_path / "registry.toml"
    path.write_text('autoload = true\n[plugins.hello]\nmodule = "hello_module"\n'
                    '[plugins.hello.config]\ngreeting = "hi"\n')
    registry = load_registry(path)
    assert registry.autoload is True
    assert registry.plugins["hello"].module == "hello_module"
    assert registry.plugins["hello"].config == {"greeting": "hi"}
    assert registry.plugins["hello"].enabled is True


def test_a_missing_default_registry_means_no_plugins(tmp_path, monkeypatch):
    monkeypatch.delenv("INTELLECTRA_REGISTRY", raising=False)
    assert load_registry(tmp_path / "registry.toml").plugins == {}


def test_a_registry_named_by_the_environment_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("INTELLECTRA_REGISTRY", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="INTELLECTRA_REGISTRY points to .*nope.toml, which does not exist"):
        load_registry(tmp_path / "nope.toml")


def test_invalid_toml_is_reported_with_the_file_name(tmp_path):
    path = tmp_path / "registry.toml"
    path.write_text("[plugins.hello\n")
    with pytest.raises(ConfigError, match="registry.toml is not valid TOML"):
        load_registry(path)


@pytest.mark.parametrize(("data", "message"), [
    ({"plugins": {"hello": {"enabled": "yes"}}}, "plugins.hello.enabled: must be true or false"),
    ({"plugins": {"hello": {"modul": "x"}}}, "plugins.hello.modul: unknown key"),
    ({"plugins": {"Hello-World": {}}}, "plugins.Hello-World: plugin names are lowercase"),
    ({"plugins": {"hello": {"module": "a", "entry_point": "b"}}}, "plugins.hello: give `module` or `entry_point`"),
    ({"plugins": {"hello": {"config": 3}}}, "plugins.hello.config: must be a table"),
    ({"autoload": 1}, "autoload: must be true or false"),
    ({"plugin": {}}, "plugin: unknown key"),
])
def test_structural_errors_name_the_key_path(data, message):
    with pytest.raises(ConfigError) as info:
        parse_registry(data)
    assert message in info.value.message


def test_env_values_are_read_from_the_environment_at_any_depth():
    env = {"STRIPE_SECRET_KEY": "sk_test_123", "HOOK": "https://x"}
    resolved = resolve_env({"key": "env:STRIPE_SECRET_KEY", "nested": {"urls": ["env:HOOK", "plain"]}},
                           "plugins.s.config", env)
    assert resolved == {"key": "sk_test_123", "nested": {"urls": ["https://x", "plain"]}}


def test_a_missing_environment_variable_is_an_error_naming_it_and_the_key():
    with pytest.raises(ConfigError) as info:
        resolve_env({"secret_key": "env:STRIPE_SECRET_KEY"}, "plugins.stripe_connect.config", {})
    assert info.value.message.startswith(
        "plugins.stripe_connect.config.secret_key: environment variable STRIPE_SECRET_KEY is not set")


class TestPluginConfig:
    def registry(self, config):
        return {"plugins": {"hello": {"module": "hello_module", "config": config}}}

    def test_a_wrong_type_names_the_key_path(self, make_host, fixture_plugins):
        host = make_host(registry=self.registry({"retries": "many"}))
        assert host.plugins.records["hello"].error.startswith("plugins.hello.config.retries:")

    def test_an_unknown_key_names_the_table(self, make_host, fixture_plugins):
        host = make_host(registry=self.registry({"greting": "hi"}))
        error = host.plugins.records["hello"].error
        assert "plugins.hello.config" in error and "greting" in error

    def test_a_missing_env_variable_fails_only_that_plugin(self, make_host, fixture_plugins, monkeypatch):
        monkeypatch.delenv("HELLO_TOKEN", raising=False)
        host = make_host(registry=self.registry({"api_token": "env:HELLO_TOKEN"}))
        record = host.plugins.records["hello"]
        assert record.state is PluginState.FAILED
        assert "plugins.hello.config.api_token: environment variable HELLO_TOKEN is not set" in record.error

    def test_a_secret_from_the_environment_never_shows_in_the_config_repr(self, make_host, fixture_plugins,
                                                                           monkeypatch):
        monkeypatch.setenv("HELLO_TOKEN", "tok_very_secret_value")
        host = make_host(registry=self.registry({"api_token": "env:HELLO_TOKEN"}))
        config = host.plugins.records["hello"].config
        assert config.api_token.reveal() == "tok_very_secret_value"
        assert "tok_very_secret_value" not in repr(config)
        assert "tok_very_secret_value" not in repr(host.plugins.records["hello"])


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=12), toml_values, max_size=4))
def test_any_registry_data_either_parses_or_raises_a_config_error(data):
    try:
        registry = parse_registry(data)
    except ConfigError as exc:
        assert exc.message
    else:
        assert all(entry.name for entry in registry.plugins.values())
