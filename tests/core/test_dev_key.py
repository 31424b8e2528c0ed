"""``serve --sandbox``'s development key: one file beside the database, owner-only, written once, read by the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from core.dev_key import dev_key_path, ensure_dev_key, read_dev_key
from core.errors import SecretsError
from core.host import Host
from core.registry import parse_registry
from core.sandbox_mode import sandbox_settings
from core.settings import Settings


def test_the_key_file_sits_beside_a_sqlite_database(tmp_path: Path) -> None:
    assert dev_key_path(f"sqlite:///{tmp_path}/intellectra.db") == tmp_path / "intellectra.dev-key"
    assert dev_key_path("sqlite:///intellectra.db") == Path("intellectra.dev-key")
    assert dev_key_path("postgresql+psycopg://u@localhost/db") == Path("intellectra.dev-key")


def test_the_key_is_written_once_for_the_owner_only_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "intellectra.dev-key"

    first = ensure_dev_key(path)
    second = ensure_dev_key(path)

    assert first == second == read_dev_key(path)
    Fernet(first.encode())  # a real Fernet key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_damaged_key_file_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "intellectra.dev-key"
    path.write_text("not a key\n")

    with pytest.raises(SecretsError, match=r"intellectra\.dev-key does not hold a Fernet key; delete it"):
        ensure_dev_key(path)


def test_sandbox_settings_switch_on_exactly_the_sandbox_conveniences(tmp_path: Path) -> None:
    base = Settings(database_url=f"sqlite:///{tmp_path}/intellectra.db")

    sandbox = sandbox_settings(base, served_at="http://127.0.0.1:8000")

    assert (sandbox.demo_sign_in, sandbox.allow_loopback_targets) == (True, True)
    assert sandbox.public_url == "http://127.0.0.1:8000"
    assert {"127.0.0.1", "localhost"} <= set(sandbox.trusted_hosts())
    assert sandbox.throwaway_secret_key is False
    assert sandbox.secret_keys == read_dev_key(tmp_path / "intellectra.dev-key")


def test_configured_keys_win_over_the_development_key(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()

    sandbox = sandbox_settings(Settings(database_url=f"sqlite:///{tmp_path}/intellectra.db", secret_keys=key),
                               served_at="http://127.0.0.1:8000")

    assert sandbox.secret_keys == key
    assert not (tmp_path / "intellectra.dev-key").exists()


@pytest.fixture
def demo_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database a ``serve --sandbox`` run left behind, with one encrypted secret; no key configured."""
    database_url = f"sqlite:///{tmp_path}/intellectra.db"
    monkeypatch.delenv("INTELLECTRA_SECRET_KEYS", raising=False)
    monkeypatch.setenv("INTELLECTRA_DATABASE_URL", database_url)
    monkeypatch.setenv("INTELLECTRA_REGISTRY", str(tmp_path / "registry.toml"))
    (tmp_path / "registry.toml").write_text("")
    settings = sandbox_settings(Settings.from_env(), served_at="http://127.0.0.1:8000")
    host = Host.create(settings=settings, registry=parse_registry({}))
    tenant, _ = host.tenants.create("Demo")
    host.subscriptions.subscribe(tenant.id, "hooks", event_type="member.created",
                                 target_url="http://127.0.0.1:9/demo-hook")
    host.close()
    return database_url


def test_what_the_sandbox_stored_is_readable_by_the_cli_afterwards(demo_database: str) -> None:
    from core.cli import cli

    # rotating opens every stored secret: it fails unless the CLI found the sandbox's key
    rotated = CliRunner().invoke(cli, ["secrets", "rotate"])

    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted 1 secret(s)" in rotated.output


def test_without_the_key_file_the_cli_says_no_key_is_configured(demo_database: str, tmp_path: Path) -> None:
    from core.cli import cli

    (tmp_path / "intellectra.dev-key").unlink()
    refused = CliRunner().invoke(cli, ["secrets", "rotate"])

    assert refused.exit_code == 1
    assert "No encryption key: set INTELLECTRA_SECRET_KEYS" in refused.output


def test_plain_serve_never_uses_the_development_key(demo_database: str, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "intellectra-integrations"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTELLECTRA_")}
    env.update(INTELLECTRA_DATABASE_URL=demo_database, INTELLECTRA_REGISTRY=str(tmp_path / "registry.toml"),
               INTELLECTRA_PUBLIC_URL="https://integrations.example.com")

    served = subprocess.run([str(script), "serve", "--port", "9"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)

    assert served.returncode == 1
    assert "No encryption key: set INTELLECTRA_SECRET_KEYS" in served.stderr
    assert "Traceback" not in served.stderr
