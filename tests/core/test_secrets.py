"""Secrets at rest: encrypted with rotating keys; never in logs, reprs, CLI output or the database file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from core.errors import SecretsError
from core.host import Host
from core.secrets import SecretBox
from core.settings import Settings

PLANTED = "sk_live_PLANTEDsecret0123456789"


def test_a_secret_round_trips_and_the_ciphertext_hides_it():
    box = SecretBox([Fernet.generate_key().decode()])
    token = box.encrypt(PLANTED)
    assert PLANTED not in token
    assert box.decrypt(token) == PLANTED


def test_keys_rotate_first_encrypts_all_decrypt():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt(PLANTED)
    both = SecretBox([new, old])
    assert both.decrypt(token) == PLANTED
    rotated = both.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == PLANTED
    with pytest.raises(SecretsError, match="cannot be decrypted"):
        SecretBox([new]).decrypt(token)


def test_an_invalid_key_is_refused_with_how_to_make_one():
    with pytest.raises(SecretsError, match="secrets generate-key"):
        SecretBox(["not-a-fernet-key"])


def test_a_production_start_without_keys_is_refused(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.db", secret_keys=None,
                        registry_path=tmp_path / "none.toml")
    with pytest.raises(SecretsError, match="No encryption key: set INTELLECTRA_SECRET_KEYS") as info:
        Host.create(settings=settings)
    assert info.value.code == "secret_keys_missing"


def test_tests_without_keys_may_use_a_throwaway_key_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        box = SecretBox.from_env_value(None, allow_throwaway_key=True)
    assert box.decrypt(box.encrypt("x")) == "x"
    assert "throwaway key" in caplog.text


def test_the_secret_box_repr_shows_no_key():
    key = Fernet.generate_key().decode()
    assert key not in repr(SecretBox([key]))


def test_a_planted_secret_is_in_no_log_line_repr_cli_output_or_plaintext_in_the_database(
        make_host, fixture_plugins, caplog, intellectra_database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("HELLO_TOKEN", PLANTED)
    with caplog.at_level(logging.DEBUG):
        host = make_host(registry={"plugins": {"hello": {"module": "hello_module",
                                                         "config": {"api_token": "env:HELLO_TOKEN"}}}})
        tenant, _ = host.tenants.create("Site")
        connection = host.connect(tenant, "hello", {"account": "acme", "password": PLANTED,
                                                    "option": "direct"}).connection
        logging.getLogger("test").info("about to fail with %s", PLANTED)
        host.status(tenant, "hello", refresh=True)
    for record in caplog.records:
        assert PLANTED not in record.getMessage()
    assert PLANTED not in repr(host) + repr(connection) + repr(host.plugins.records["hello"])
    assert PLANTED not in json.dumps(host.plugins.records["hello"].as_json())

    from core.cli import cli

    monkeypatch.setenv("INTELLECTRA_DATABASE_URL", intellectra_database_url)
    monkeypatch.setenv("INTELLECTRA_SECRET_KEYS", host.settings.secret_keys)
    monkeypatch.chdir(tmp_path)  # no registry.toml here: the CLI loads no plugins
    runner = CliRunner()
    for args in (["connections", "list", "--json"], ["tenants", "list", "--json"]):
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert PLANTED not in result.output

    if intellectra_database_url.startswith("sqlite:///"):
        host.store.dispose()
        raw = Path(intellectra_database_url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(intellectra_database_url.removeprefix("sqlite:///") + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert PLANTED.encode() not in raw
    else:
        from sqlalchemy import text

        with host.store.read() as c:
            dump = [tuple(r) for r in c.execute(text("SELECT secrets, data FROM connections"))]
        assert PLANTED not in repr(dump)
