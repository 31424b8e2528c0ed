"""The command line, run as the installed console script in a scratch directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from core.secrets import SecretBox

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCRIPT = str(Path(sys.executable).parent / "intellectra-integrations")


@pytest.fixture
def workdir(tmp_path, intellectra_database_url, installed_hello_dist):
    (tmp_path / "registry.toml").write_text(
        '[plugins.hello]\nmodule = "hello_module"\n'
        '[plugins.broken]\nmodule = "broken_import"\n'
        '[plugins.future]\nmodule = "future_host"\nenabled = false\n'
        '[plugins.greeter]\nentry_point = "greeter"\n'
        '[plugins.courier]\nmodule = "courier_module"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTELLECTRA_")}
    env.update(PYTHONPATH=os.pathsep.join([str(FIXTURES / "plugins"), str(installed_hello_dist)]),
               INTELLECTRA_DATABASE_URL=intellectra_database_url,
               INTELLECTRA_SECRET_KEYS=Fernet.generate_key().decode())
    return tmp_path, env


def run(workdir, *args, check=True):
    path, env = workdir
    result = subprocess.run([SCRIPT, *args], cwd=path, env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_plugins_list_json_shows_name_version_source_state_and_error(workdir):
    listed = run(workdir, "plugins", "list", "--json", check=False)
    assert listed.returncode == 1  # `broken` is enabled and failed
    plugins = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert plugins["hello"]["state"] == "loaded" and plugins["hello"]["source"] == "module:hello_module"
    assert plugins["broken"]["state"] == "failed"
    assert "No module named 'a_module_that_does_not_exist'" in plugins["broken"]["error"]
    assert plugins["future"]["state"] == "disabled"
    assert plugins["greeter"] == {**plugins["greeter"], "state": "loaded", "version": "2.3.0",
                                  "source": "entry_point:intellectra-hello-dist==2.3.0", "error": None}


def test_plugins_list_prints_a_table_for_people(workdir):
    out = run(workdir, "plugins", "list", check=False).stdout
    assert "hello" in out and "failed" in out and "loaded" in out


def test_events_types_lists_the_deployments_catalogue_with_who_declared_each_type(workdir):
    listed = json.loads(run(workdir, "events", "types", "--json").stdout)["event_types"]
    by_name = {t["name"]: t for t in listed}
    assert by_name["courier.parcel_shipped"] == {"name": "courier.parcel_shipped", "version": 1,
                                                 "title": "Parcel shipped", "declared_by": "courier",
                                                 "fields": ["parcel_id", "carrier_reference"]}
    assert (by_name["purchase.completed"]["declared_by"], by_name["purchase.completed"]["version"]) == ("core", 2)
    assert listed[-1]["name"] == "courier.parcel_shipped", "core's vocabulary first, then each plugin's"
    table = run(workdir, "events", "types").stdout
    assert "courier.parcel_shipped" in table and "member.created" in table


def test_tenants_create_prints_an_id_and_a_token_once_and_list_never_shows_it(workdir):
    created = json.loads(run(workdir, "tenants", "create", "Ada's Studio", "--json").stdout)
    assert created["id"].startswith("tn_") and created["token"].startswith("itk_")
    listed = run(workdir, "tenants", "list", "--json").stdout
    assert created["id"] in listed and created["token"] not in listed
    assert json.loads(listed)["tenants"][0]["name"] == "Ada's Studio"


def test_connections_list_and_status(workdir):
    tenant = json.loads(run(workdir, "tenants", "create", "Site", "--json").stdout)
    assert json.loads(run(workdir, "connections", "list", "--json").stdout) == {"connections": []}
    missing = run(workdir, "connections", "status", tenant["id"], "hello", check=False)
    assert missing.returncode == 1
    assert "Hello is not connected for this site yet" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_db_upgrade_is_idempotent(workdir):
    assert "Database is up to date" in run(workdir, "db", "upgrade").stdout
    assert "Database is up to date" in run(workdir, "db", "upgrade").stdout


def test_an_unknown_tenant_is_a_one_line_error(workdir):
    result = run(workdir, "connections", "status", "tn_nope", "hello", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: No tenant with id 'tn_nope'; list them with `intellectra-integrations tenants list`.")


@attrs.define
class Rotation:
    """A site whose secrets were written with ``old``; ``rotate()`` runs the command with ``new`` first."""

    workdir: tuple[Path, dict[str, str]]
    tenant_id: str
    engine: Any
    old: str = attrs.field(factory=lambda: Fernet.generate_key().decode())
    new: str = attrs.field(factory=lambda: Fernet.generate_key().decode())

    def plant(self, sql: str, plaintext: str) -> None:
        with self.engine.begin() as c:
            c.execute(text(sql), {"t": self.tenant_id, "s": SecretBox([self.old]).encrypt(plaintext)})

    def rotate(self) -> str:
        self.workdir[1]["INTELLECTRA_SECRET_KEYS"] = f"{self.new},{self.old}"
        return run(self.workdir, "secrets", "rotate").stdout

    def opens_with_the_new_key_alone(self, sql: str) -> str:
        with self.engine.begin() as c:
            return SecretBox([self.new]).decrypt(c.execute(text(sql)).scalar())


@pytest.fixture
def rotation(workdir):
    _, env = workdir
    made = Rotation(workdir=workdir, tenant_id="", engine=create_engine(env["INTELLECTRA_DATABASE_URL"]))
    env["INTELLECTRA_SECRET_KEYS"] = made.old
    made.tenant_id = json.loads(run(workdir, "tenants", "create", "Site", "--json").stdout)["id"]
    yield made
    made.engine.dispose()


def test_secrets_rotate_re_encrypts_everything_with_the_first_key(rotation):
    rotation.plant("INSERT INTO subscriptions (id, tenant_id, integration, event_type, target_url, secret, "
                   "filters, created_at) VALUES ('sub_1', :t, 'zapier', 'member.created', 'https://x', :s, "
                   "'{}', '2026-01-01 00:00:00')", "whsec_x")
    assert "Re-encrypted 1 secret(s)" in rotation.rotate()
    assert rotation.opens_with_the_new_key_alone("SELECT secret FROM subscriptions") == "whsec_x"


def test_secrets_rotate_also_re_encrypts_plugin_delivery_targets(rotation):
    """A plugin's delivery target (a Slack webhook URL) is stored encrypted too; after `secrets rotate`
    and dropping the old key, a pending delivery must still be sendable."""
    rotation.plant("INSERT INTO deliveries (id, tenant_id, integration, event_type, target_url, target_url_secret, "
                   "payload, status, attempts, next_attempt_at, created_at) VALUES ('msg_1', :t, 'slack', 'custom', "
                   "'https://hooks.slack.com/…', :s, '{}', 'pending', 0, '2026-01-01 00:00:00', "
                   "'2026-01-01 00:00:00')", "https://hooks.slack.com/services/T/B/X")
    assert "Re-encrypted 1 secret(s)" in rotation.rotate()
    assert (rotation.opens_with_the_new_key_alone("SELECT target_url_secret FROM deliveries")
            == "https://hooks.slack.com/services/T/B/X")


def test_every_column_that_holds_ciphertext_is_declared_for_rotation():
    from core.store.tables import encrypted_columns

    assert {f"{c.table.name}.{c.name}" for c in encrypted_columns()} == {
        "connections.secrets", "connect_states.data", "subscriptions.secret", "deliveries.secret",
        "deliveries.target_url_secret"}
