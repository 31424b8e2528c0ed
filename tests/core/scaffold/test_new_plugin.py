"""`intellectra-integrations new-plugin NAME`: a skeleton that installs, loads, and says what to write next."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from core.cli import cli
from core.hookspecs import ADDRESSED_HOOKS
from core.plugins import PluginState
from core.scaffold import HOOK_ANCHORS

OPTIONAL_HOOKS = {"submit_card_form"}
"""Hooks for features the skeleton does not declare (card forms): no stub to delete."""
STUBBED_HOOKS = (*(h for h in ADDRESSED_HOOKS if h not in OPTIONAL_HOOKS), "on_domain_event")


def new_plugin(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["new-plugin", *args])
    return result.exit_code, result.output


def load_module(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import the generated plugin from its file (in sys.modules, so cattrs can resolve its annotations)."""
    spec = importlib.util.spec_from_file_location("intellectra_acme_crm", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "intellectra_acme_crm", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def skeleton(tmp_path: Path) -> Path:
    code, output = new_plugin("acme_crm", "--directory", str(tmp_path / "intellectra-acme-crm"))
    assert code == 0, output
    return tmp_path / "intellectra-acme-crm"


def test_it_writes_an_installable_package_with_the_entry_point(skeleton):
    files = sorted(p.relative_to(skeleton).as_posix() for p in skeleton.rglob("*") if p.is_file())
    assert files == [".gitignore", "README.md", "pyproject.toml", "src/intellectra_acme_crm/__init__.py",
                     "tests/test_acme_crm.py", "tests/test_conformance.py"]
    project = tomllib.loads((skeleton / "pyproject.toml").read_text())
    assert project["project"]["name"] == "intellectra-acme-crm"
    assert project["project"]["entry-points"]["intellectra.integrations"] == {"acme_crm": "intellectra_acme_crm"}


def test_it_defaults_to_a_folder_named_after_the_distribution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = new_plugin("acme_crm", "--title", "Acme CRM")
    assert code == 0, output
    assert "title=\"Acme CRM\"" in (tmp_path / "intellectra-acme-crm/src/intellectra_acme_crm/__init__.py").read_text()
    assert 'pip install -e ".[test]"' in output and "docs/writing-a-plugin.md" in output


def test_it_never_overwrites_an_existing_folder(tmp_path):
    target = tmp_path / "intellectra-acme-crm"
    target.mkdir()
    (target / "pyproject.toml").write_text("mine")

    code, output = new_plugin("acme_crm", "--directory", str(target))

    assert code == 1
    assert "already exists and is not empty; new-plugin never overwrites files" in output
    assert [p.name for p in target.iterdir()] == ["pyproject.toml"]
    assert (target / "pyproject.toml").read_text() == "mine"


@pytest.mark.parametrize(("name", "suggestion"), [("Acme-CRM", "'acme_crm'"), ("9lives", "'x_9lives'"),
                                                  ("acme crm!", "'acme_crm'"), ("class", None)])
def test_it_refuses_names_the_registry_would_refuse(tmp_path, name, suggestion):
    code, output = new_plugin(name, "--directory", str(tmp_path / "out"))

    assert code == 1 and f"{name!r} cannot be an integration name" in output
    assert suggestion is None or f"such as {suggestion}" in output
    assert not (tmp_path / "out").exists()


def test_every_integration_hook_raises_not_implemented_yet_with_a_pointer_to_the_guide(skeleton, monkeypatch):
    module = load_module(skeleton / "src/intellectra_acme_crm/__init__.py", monkeypatch)
    for hook in STUBBED_HOOKS:
        function = getattr(module, hook)
        arguments = {name: None for name in function.__code__.co_varnames[:function.__code__.co_argcount]}
        with pytest.raises(NotImplementedError) as stub:
            function(**arguments)
        assert str(stub.value) == f"not implemented yet: {hook} — see docs/writing-a-plugin.md#{HOOK_ANCHORS[hook]}"


def test_the_skeleton_loads_and_declares_itself(skeleton, make_host, monkeypatch):
    module = load_module(skeleton / "src/intellectra_acme_crm/__init__.py", monkeypatch)
    host = make_host(plugins={"acme_crm": module})

    record = host.plugins.records["acme_crm"]
    assert record.state is PluginState.LOADED, record.error
    assert record.info.title == "Acme Crm" and [f.name for f in record.info.connect_fields] == ["api_key"]
    assert all(host.plugins.implements("acme_crm", hook) for hook in STUBBED_HOOKS)


def test_the_skeleton_passes_ruff_with_its_own_settings(skeleton):
    ruff = Path(sys.executable).with_name("ruff")
    assert ruff.exists(), "ruff comes with the test extras (pip install -e '.[test]')"
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=skeleton, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout
