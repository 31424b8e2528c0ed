"""A plugin whose observer fails in a worker is reported against that plugin by every process: the
operators' health (``health``, ``/healthz/details``) and ``plugins list`` read the stored observations,
not only the worker's own memory."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from core.cli import cli
from core.health import operator_health
from core.host import Host
from core.web.app import create_app

OPERATOR_TOKEN = "op-token-0123456789abcdef"
MEMBER = {"member_id": "m1", "email": "m@example.com"}
CRM_PLUGIN = '''
from core import Capability, Connected, IntegrationInfo, hookimpl


@hookimpl
def integration_info():
    return IntegrationInfo(name="crm", title="CRM", description="Copies new members to a CRM.",
                           capabilities={Capability.CONNECT}, observes={"member.created"})


@hookimpl
def connect(ctx, tenant, form, state):
    return Connected(secrets={})


@hookimpl
def on_domain_event(ctx, event):
    raise RuntimeError("the CRM is down")
'''
REGISTRY = {"plugins": {"crm": {"module": "crm_observer"}}}


@pytest.fixture
def crm(tmp_path, monkeypatch) -> None:
    """``crm_observer``: a plugin module (as a registry names it) whose observer always raises."""
    (tmp_path / "crm_observer.py").write_text(CRM_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "crm_observer", raising=False)


@pytest.fixture
def worker(crm, make_host: Callable[..., Host]) -> Host:
    """The worker's host: the tenant is connected to the CRM and a member was created."""
    host = make_host(registry=REGISTRY)
    host.pipeline.configure(max_attempts=2, retry_base_seconds=10)
    tenant, _ = host.tenants.create("Ada's Studio")
    host.connect(tenant, "crm", {})
    host.emit(tenant.id, "member.created", MEMBER)
    return host


@pytest.fixture
def cli_run(crm, intellectra_database_url, tmp_path):
    """Invoke the CLI as a separate run would: its own host, from a registry file naming the plugin."""
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.crm]\nmodule = "crm_observer"\n')
    env = {"INTELLECTRA_DATABASE_URL": intellectra_database_url, "INTELLECTRA_REGISTRY": str(registry),
           "INTELLECTRA_SECRET_KEYS": Fernet.generate_key().decode(), "COLUMNS": "250"}

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_another_process_sees_a_retrying_observer_against_its_plugin_with_the_error(worker, make_host):
    assert worker.pipeline.observer.drain().retried == 1

    elsewhere = operator_health(make_host(registry=REGISTRY))

    (crm,) = [p for p in elsewhere["plugins"] if p["name"] == "crm"]
    assert crm["state"] == "loaded" and crm["recent_errors"] == [], "nothing in this process's memory"
    assert crm["observer_failures"] == {"failed": 0, "retrying": 1,
                                        "last_error": "RuntimeError: the CRM is down"}
    assert elsewhere["status"] == "ok", "a retry may still succeed: nothing for an operator to do yet"


def test_a_failed_observation_degrades_the_operators_health_elsewhere(worker, make_host, clock):
    worker.pipeline.observer.drain()
    clock.advance(10)
    assert worker.pipeline.observer.drain().failed == 1

    elsewhere = operator_health(make_host(registry=REGISTRY))

    (crm,) = [p for p in elsewhere["plugins"] if p["name"] == "crm"]
    assert crm["observer_failures"] == {"failed": 1, "retrying": 0, "last_error": "RuntimeError: the CRM is down"}
    assert elsewhere["status"] == "degraded"
    assert elsewhere["failed_plugins"] == [] and elsewhere["failing_plugins"] == ["crm"]


def test_a_plugin_without_stored_failures_reports_none(crm, make_host):
    report = operator_health(make_host(registry=REGISTRY))
    (crm_row,) = [p for p in report["plugins"] if p["name"] == "crm"]
    assert crm_row["observer_failures"] is None and report["status"] == "ok"


def test_the_operators_endpoint_of_another_process_shows_it(worker, make_host, live_server, clock):
    worker.pipeline.observer.drain()
    clock.advance(10)
    worker.pipeline.observer.drain()
    url = live_server(create_app(make_host(registry=REGISTRY, settings={"metrics_token": OPERATOR_TOKEN})))

    body = httpx.get(f"{url}/healthz/details", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).json()

    assert body["status"] == "degraded" and body["failing_plugins"] == ["crm"]
    (crm,) = [p for p in body["plugins"] if p["name"] == "crm"]
    assert crm["observer_failures"]["last_error"] == "RuntimeError: the CRM is down"
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok", "database": "ok"}, \
        "anyone's answer stays status and database (no plugin names, no queries over observations)"


def test_plugins_list_and_health_in_a_fresh_cli_run_report_it_and_exit_1(worker, cli_run, clock):
    worker.pipeline.observer.drain()
    clock.advance(10)
    worker.pipeline.observer.drain()

    listed = cli_run("plugins", "list")
    assert listed.exit_code == 1
    assert "crm (loaded): on_domain_event: 1 failed, 0 retrying; last error: RuntimeError: the CRM is down" \
        in listed.output
    assert "observations replay --status failed --integration crm" in listed.output
    as_json = json.loads(cli_run("plugins", "list", "--json").stdout)
    assert as_json["plugins"][0]["observer_failures"]["failed"] == 1

    health = cli_run("health")
    assert health.exit_code == 1
    assert "the CRM is down" in health.output and "degraded" in health.output


def test_plugins_list_still_exits_0_while_an_observer_is_only_retrying(worker, cli_run):
    worker.pipeline.observer.drain()

    listed = cli_run("plugins", "list")

    assert listed.exit_code == 0, listed.output
    assert "crm (loaded): on_domain_event: 0 failed, 1 retrying; last error: RuntimeError: the CRM is down" \
        in listed.output


def test_plugins_list_creates_no_database_when_there_is_none(crm, tmp_path, monkeypatch):
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.crm]\nmodule = "crm_observer"\n')
    missing = tmp_path / "nothing-here.db"

    listed = CliRunner().invoke(cli, ["plugins", "list"], env={
        "INTELLECTRA_DATABASE_URL": f"sqlite:///{missing}", "INTELLECTRA_REGISTRY": str(registry)})

    assert listed.exit_code == 0, listed.output
    assert not missing.exists()
