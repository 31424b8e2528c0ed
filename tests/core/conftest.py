"""Fixtures for the host's own tests: example plugins by module path and as an installed distribution."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def fixture_plugins(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make tests/fixtures/plugins importable (``module = "hello_module"``), fresh for each test."""
    path = FIXTURES / "plugins"
    monkeypatch.syspath_prepend(str(path))
    for name in [m for m in sys.modules if m.split(".")[0] in {p.stem for p in path.glob("*.py")}]:
        monkeypatch.delitem(sys.modules, name)
    return path


@pytest.fixture(scope="session")
def _installed_hello_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the example third-party distribution into a target folder (once per session)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(FIXTURES / "dists" / "intellectra-hello-dist")],
        check=True, capture_output=True, timeout=300,
    )
    return target


@pytest.fixture
def installed_hello_dist(_installed_hello_dist: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The installed distribution on sys.path, so ``importlib.metadata`` finds its entry point."""
    monkeypatch.syspath_prepend(str(_installed_hello_dist))
    importlib.invalidate_caches()
    return _installed_hello_dist
