"""The distributions build quietly and declare what an installer needs: an SPDX licence, ranges, extras.

Each is built the way ``pip install`` builds it (an isolated build with the ``[build-system]`` our
pyproject asks for), and the build's own output is searched for deprecation warnings.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = {"intellectra-integrations": ROOT,
                 "intellectra-stripe-sandbox": ROOT / "plugins" / "stripe_connect" / "sandbox"}


JUNK = shutil.ignore_patterns(".git", ".venv", "__pycache__", "node_modules", "build", "dist", "*.egg-info",
                              ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "test-artifacts", "*.db*")


def build_wheel(source: Path, into: Path) -> tuple[Message, str]:
    """Build from a copy: pip builds in the source folder, and a test must leave the checkout as it was."""
    tree = into / "source"
    shutil.copytree(source, tree, ignore=JUNK)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(into), str(tree)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = into.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(name))
    return metadata, result.stdout + result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Message, str]]:
    return {name: build_wheel(source, tmp_path_factory.mktemp(name)) for name, source in DISTRIBUTIONS.items()}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_building_prints_no_deprecation_warning(built, name):
    _, output = built[name]
    warnings = [line for line in output.splitlines() if "deprecat" in line.lower()]
    assert not warnings, "\n".join(warnings)


def test_an_editable_install_prints_no_deprecation_warning():
    """``pip install -e .`` (as ``make`` runs it) prepares the editable build: the same configuration, read anew."""
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "-v", "-e", str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Would install intellectra-integrations" in result.stdout
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "deprecat" in line.lower()]
    assert not warnings, "\n".join(warnings)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_the_licence_is_an_spdx_expression(built, name):
    metadata, _ = built[name]
    assert metadata["License-Expression"] == "LicenseRef-Proprietary"
    assert metadata["License"] is None


def host_requirements(built) -> list[Requirement]:
    metadata, _ = built["intellectra-integrations"]
    return [Requirement(r) for r in metadata.get_all("Requires-Dist")]


def test_the_hosts_own_dependencies_are_ranges_never_exact_pins(built):
    runtime = [r for r in host_requirements(built) if r.marker is None]
    assert runtime
    for requirement in runtime:
        assert requirement.specifier, f"{requirement} has no version range"
        assert not any(spec.operator in ("==", "===") for spec in requirement.specifier), requirement
    stripe = next(r for r in host_requirements(built) if r.name == "stripe")
    assert "16.1.0" in stripe.specifier and "16.9.0" in stripe.specifier and "17.0.0" not in stripe.specifier


def test_postgresql_support_is_the_postgres_extra(built):
    metadata, _ = built["intellectra-integrations"]
    assert "postgres" in metadata.get_all("Provides-Extra")
    psycopg = [r for r in host_requirements(built) if r.name == "psycopg"]
    assert psycopg and all(r.marker is not None and r.marker.evaluate({"extra": "postgres"})
                           and not r.marker.evaluate({"extra": ""}) for r in psycopg)
    assert all("binary" in r.extras for r in psycopg)


def test_make_and_ci_install_the_postgres_extra():
    makefile = (ROOT / "Makefile").read_text()
    install = next(line for line in makefile.splitlines() if "pip install" in line and "-e '." in line)
    assert "postgres" in install.split("-e '.", 1)[1].split("'", 1)[0]
    assert "make test" in (ROOT / ".ci/run").read_text()
