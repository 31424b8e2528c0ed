"""``/healthz`` tells anyone only whether the host and its database are up; the details are for operators
(``/healthz/details`` with the operator token, and ``intellectra-integrations health``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner

from core.host import Host
from core.web.app import create_app

OPERATOR_TOKEN = "op-token-0123456789abcdef"


@pytest.fixture
def broken_site(make_host: Callable[..., Host], fixture_plugins, live_server: Callable[..., str]) -> tuple[Host, str]:
    host = make_host(registry={"plugins": {"broken": {"module": "broken_import"}, "hello": {"module": "hello_module"}}},
                     settings={"metrics_token": OPERATOR_TOKEN})
    return host, live_server(create_app(host))


def test_anyone_learns_only_the_status_and_whether_the_database_is_up(broken_site):
    _, url = broken_site

    answer = httpx.get(f"{url}/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "degraded", "database": "ok"}
    for leak in ("broken_import", "ModuleNotFoundError", "a_module_that_does_not_exist", "hello_module", "sqlite"):
        assert leak not in answer.text


def test_operators_see_plugins_errors_and_counters_with_the_operator_token(broken_site):
    _, url = broken_site

    answer = httpx.get(f"{url}/healthz/details", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})

    body = answer.json()
    assert answer.status_code == 200
    assert body["status"] == "degraded" and body["failed_plugins"] == ["broken"]
    assert body["database"]["ok"] is True
    broken = next(p for p in body["plugins"] if p["name"] == "broken")
    assert broken["error"].startswith("failed to import")
    assert "intake" in body["pipeline"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {OPERATOR_TOKEN}", OPERATOR_TOKEN])
def test_the_details_need_the_operator_token(broken_site, authorization):
    _, url = broken_site
    headers = {"Authorization": authorization} if authorization else {}

    answer = httpx.get(f"{url}/healthz/details", headers=headers)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "operator_token_required"
    assert "broken_import" not in answer.text


def test_without_an_operator_token_configured_the_details_are_off(make_host, live_server):
    url = live_server(create_app(make_host()))

    answer = httpx.get(f"{url}/healthz/details", headers={"Authorization": "Bearer anything"})

    assert answer.status_code == 404
    assert "INTELLECTRA_METRICS_TOKEN" in answer.json()["error"]["message"]


def test_a_tenant_token_is_not_an_operator_token(broken_site):
    host, url = broken_site
    _, tenant_token = host.tenants.create("Ada's Studio")

    answer = httpx.get(f"{url}/healthz/details", headers={"Authorization": f"Bearer {tenant_token}"})

    assert answer.status_code == 401


def test_the_cli_shows_operators_the_same_details(fixture_plugins, intellectra_database_url, tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    from core.cli import cli

    (tmp_path / "registry.toml").write_text('[plugins.broken]\nmodule = "broken_import"\n'
                                            '[plugins.hello]\nmodule = "hello_module"\n')
    monkeypatch.chdir(tmp_path)
    env = {"INTELLECTRA_DATABASE_URL": intellectra_database_url,
           "INTELLECTRA_REGISTRY": str(tmp_path / "registry.toml"),
           "INTELLECTRA_SECRET_KEYS": Fernet.generate_key().decode()}

    result = CliRunner().invoke(cli, ["health", "--json"], env=env)

    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["status"] == "degraded" and report["failed_plugins"] == ["broken"]
    assert report["database"]["ok"] is True
