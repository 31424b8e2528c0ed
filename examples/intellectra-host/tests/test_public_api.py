"""The site uses only the integration host's public API: ``from core import ...`` names, the web app
factory, and the stable ``Host`` members (docs/host-app.md); never a plugin's modules."""

from __future__ import annotations

import ast
from pathlib import Path

import core
from core.host import HOST_APP_API

SOURCE = Path(__file__).resolve().parents[1] / "src" / "intellectra_host"
HOST_APP_ENTRY_POINTS = {"core.web.app": {"create_app", "EmbeddedPage"}}
HOST_ATTRIBUTES = {name.split(".")[0] for name in HOST_APP_API}


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SOURCE.rglob("*.py"))]


def test_it_imports_only_cores_public_names_and_documented_entry_points():
    found = []
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name, "") for alias in node.names
                          if alias.name.split(".")[0] in {"core", "plugins"}]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"core", "plugins"}:
                found += [(path.name, node.module, alias.name) for alias in node.names]
    assert found, "the site does use the integration host"

    for where, module, name in found:
        if module == "core":
            assert name in core.__all__, f"{where}: core.{name} is not public"
        else:
            assert name in HOST_APP_ENTRY_POINTS.get(module, ()), f"{where}: {module}.{name} is not the public API"


def test_it_uses_only_the_stable_members_of_the_host():
    """Every ``host.<member>`` the site touches is one docs/host-app.md lists."""
    used = set()
    for _path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
                owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
                if owner in {"host", "Host"}:
                    used.add(node.attr)
    assert used, "the site does use the host"
    assert used <= HOST_ATTRIBUTES, f"not in the stable API: {sorted(used - HOST_ATTRIBUTES)}"
