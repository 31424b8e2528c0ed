"""``intellectra-integrations zapier keys ...``: the key is printed once, never listed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet


@pytest.fixture
def run(intellectra_database_url, tmp_path):
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.zapier]\nmodule = "plugins.zapier"\n')
    env = {**os.environ, "INTELLECTRA_DATABASE_URL": intellectra_database_url, "INTELLECTRA_REGISTRY": str(registry),
           "INTELLECTRA_SECRET_KEYS": Fernet.generate_key().decode()}
    exe = shutil.which("intellectra-integrations", path=str(Path(sys.executable).parent)) or "intellectra-integrations"

    def run(*args: str) -> str:
        done = subprocess.run([exe, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_create_list_and_revoke_a_key(run):
    tenant = json.loads(run("tenants", "create", "CLI Studio", "--json"))
    created = json.loads(run("zapier", "keys", "create", "--tenant", tenant["id"], "--label", "Zaps", "--json"))
    assert created["api_key"].startswith("ik_") and created["label"] == "Zaps"
    listed = run("zapier", "keys", "list", "--tenant", tenant["id"], "--json")
    assert created["api_key"] not in listed
    assert [k["id"] for k in json.loads(listed)["keys"]] == [created["id"]]
    assert "Revoked API key" in run("zapier", "keys", "revoke", created["id"])
    assert json.loads(run("zapier", "keys", "list", "--tenant", tenant["id"], "--json"))["keys"] == []


def test_the_text_output_shows_the_key_once_with_what_to_do(run):
    tenant = json.loads(run("tenants", "create", "CLI Studio", "--json"))
    out = run("zapier", "keys", "create", "--tenant", tenant["id"])
    assert "ik_" in out and "not shown again" in out


def test_hooks_list_shows_only_the_scheme_and_host_of_a_target(run, zapier_host):
    # A Zapier target URL is a credential (hooks.zapier.com/hooks/standard/<account>/<secret>/): listings
    # show scheme and host only, in the table and in --json (docs/operations.md).
    tenant, _ = zapier_host.tenants.create("CLI Studio")
    zapier_host.subscriptions.subscribe(tenant.id, "zapier", event_type="purchase.completed",
                                        target_url="http://127.0.0.1:9/hooks/standard/123/s3cr3tZapToken/")
    (hook,) = json.loads(run("zapier", "hooks", "list", "--tenant", tenant.id, "--json"))["hooks"]
    assert hook["target_url"] == "http://127.0.0.1/…"
    assert "s3cr3tZapToken" not in run("zapier", "hooks", "list", "--tenant", tenant.id)


def test_zapier_keys_revoke_cannot_revoke_another_integrations_key(make_host) -> None:
    """The command line has no tenant to check against: it is scoped to Zapier's own keys instead."""
    import pytest

    import plugins.zapier
    from core.errors import NotFound
    from plugins.zapier.connect_flow import revoke_key

    host = make_host(plugins={"zapier": plugins.zapier})
    tenant, _ = host.tenants.create("Site")
    other_key, _ = host.api_keys.create(tenant.id, "slack", label="Slack key")
    with pytest.raises(NotFound, match="No zapier API key"):
        revoke_key(host.context("zapier"), other_key.id, actor="cli")
    assert host.api_keys.list(tenant.id, integration="slack")[0].revoked_at is None
