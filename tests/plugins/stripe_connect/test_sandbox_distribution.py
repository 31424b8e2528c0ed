"""The Stripe sandbox is a development tool in its own distribution: the production wheel carries none of it.

Both wheels are built the way a release builds them (pip, setuptools) from a clean copy of the sources (a
stale ``build/`` folder cannot leak into the result), then listed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import plugins.stripe_connect
from core.host import Host
from core.plugins import PluginState
from core.testing import free_port

ROOT = Path(__file__).resolve().parents[3]
SANDBOX_FOLDER = ROOT / "plugins" / "stripe_connect" / "sandbox"
SANDBOX_ONLY_FILES = {p.name for p in (SANDBOX_FOLDER / "src" / "intellectra_stripe_sandbox").rglob("*")
                      if p.is_file() and p.suffix != ".py" and p.name != "py.typed"}
NAME = "stripe_connect"


def build_wheel(source: Path, copy_of: list[str], out: Path) -> list[str]:
    """Copy ``copy_of`` from ``source`` to a fresh folder, build its wheel, return the wheel's file names."""
    tree = out / "src"
    tree.mkdir(parents=True)
    junk = shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".venv")
    for name in copy_of:
        item = source / name
        if item.is_dir():
            shutil.copytree(item, tree / name, ignore=junk)
        else:
            shutil.copy2(item, tree / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(out / "dist"), str(tree)], check=True, capture_output=True, timeout=300)
    [wheel] = (out / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_production_wheel_contains_no_sandbox_module_template_or_fixture(tmp_path: Path) -> None:
    names = build_wheel(ROOT, ["pyproject.toml", "README.md", "core", "plugins"], tmp_path)

    assert "plugins/stripe_connect/__init__.py" in names  # the plugin itself ships
    assert "core/__init__.py" in names
    sandbox_paths = [n for n in names if n.startswith(("plugins/stripe_connect/sandbox", "intellectra_stripe_sandbox"))]
    assert sandbox_paths == []
    assert not [n for n in names if Path(n).name in SANDBOX_ONLY_FILES and n.startswith("plugins/")]
    assert not [n for n in names if n.endswith("fixtures.json")]
    assert not [n for n in names if "/node_modules/" in n], "what npm ci installs for the Zapier app stays out"


def test_the_sandbox_wheel_builds_with_its_modules_templates_and_fixtures(tmp_path: Path) -> None:
    names = build_wheel(SANDBOX_FOLDER, ["pyproject.toml", "README.md", "src"], tmp_path)

    package = "intellectra_stripe_sandbox/"
    assert {f"{package}__init__.py", f"{package}server.py", f"{package}fixtures.json",
            f"{package}templates/authorize.html", f"{package}templates/checkout.html"} <= set(names)
    assert not [n for n in names if n.startswith(("core/", "plugins/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert entry_points.startswith("intellectra_stripe_sandbox-")


def test_the_sandbox_imports_nothing_from_the_host_or_the_plugins() -> None:
    sources = (SANDBOX_FOLDER / "src" / "intellectra_stripe_sandbox").glob("*.py")
    offending = [f"{path.name}: {line.strip()}" for path in sources for line in path.read_text().splitlines()
                 if line.lstrip().startswith(("import core", "from core", "import plugins", "from plugins"))]

    assert offending == []


def test_without_the_sandbox_installed_the_dev_server_names_the_distribution_to_install(
        make_host: Callable[..., Host], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "intellectra_stripe_sandbox", None)  # as if never installed

    host = make_host(plugins={NAME: plugins.stripe_connect}, sandbox_base_url="http://127.0.0.1:9")

    record = host.plugins.records[NAME]
    assert record.state is PluginState.FAILED
    error = record.error or ""
    assert "pip install -e ./plugins/stripe_connect/sandbox" in error
    assert "intellectra-stripe-sandbox" in error
    assert "\n" not in error and "Traceback" not in error


def test_serve_sandbox_without_the_sandbox_says_once_how_to_install_it_and_serves_the_rest(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text('import sys\nsys.modules["intellectra_stripe_sandbox"] = None\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTELLECTRA_", "STRIPE_"))}
    env.update(PYTHONPATH=str(blocker), INTELLECTRA_REGISTRY=str(ROOT / "registry.toml"))
    script = Path(sys.executable).parent / "intellectra-integrations"
    port = free_port()
    # With its workers, as an operator runs it; everything it says is read, until after it stopped.
    with subprocess.Popen([str(script), "serve", "--sandbox", "--port", str(port)], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        lines: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if "Serving on" in line:
                    break
            for path in ("/healthz", "/login", "/settings/integrations"):
                httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10)
            time.sleep(1)  # a worker's first rounds
        finally:
            proc.terminate()
            rest, _ = proc.communicate(timeout=20)
            lines.append(rest)

    output = "".join(lines)
    assert "Serving on" in output, output
    for said in ("pip install -e ./plugins/stripe_connect/sandbox", "intellectra-stripe-sandbox",
                 "intellectra_stripe_sandbox"):
        assert output.count(said) <= 1, f"{said!r} said more than once:\n{output}"
    assert "pip install -e ./plugins/stripe_connect/sandbox" in output and "intellectra-stripe-sandbox" in output
    assert "Traceback" not in output
