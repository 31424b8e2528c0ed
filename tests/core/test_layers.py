"""core/ reads as layers: no module imports one that (directly or not) imports it back.

From the bottom up: values and utilities (models, errors, events, clock, store...); the plugin API
(hookspecs, context, plugin_services), which knows nothing of the host's internals; plugin loading
and the host's services, which get their collaborators and never the ``Host``; the pipeline; the
``Host``, which composes them; then the web app, the CLI and the test kit. Every import counts,
including those under ``if TYPE_CHECKING:`` and inside functions: a reader follows them all.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PLUGIN_API = ("core.cards", "core.catalogue", "core.context", "core.devserver", "core.errors", "core.events",
              "core.hookspecs", "core.models", "core.plugin_services", "core.secrets_type")
"""What plugins are written against (re-exported by ``core``)."""

HOST_INTERNALS = ("core.apikeys", "core.builtins", "core.card_forms", "core.connect_flow", "core.connections",
                  "core.domain", "core.effects", "core.host", "core.pipeline", "core.plugins", "core.rate_limits",
                  "core.subscriptions", "core.cli", "core.web")

ABOVE_THE_HOST = ("core", "core.cli", "core.health", "core.sandbox_mode", "core.testing", "core.web")
"""Modules that may import ``core.host``: the public package, the CLI, the web app, and what serves them."""


def module_name(path: Path, base: Path = ROOT) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str = "core", base: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, base): p for p in (base / package.replace(".", "/")).rglob("*.py")
            if "migrations" not in p.parts}


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of ``known`` that ``name`` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph(package: str = "core", base: Path = ROOT) -> dict[str, set[str]]:
    known = modules(package, base)
    return {name: set(imported(name, path, known)) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (Tarjan's strongly connected components of size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_core_has_no_import_circles():
    assert circles(graph()) == []


def test_the_stripe_sandbox_has_no_import_circles():
    base = ROOT / "plugins/stripe_connect/sandbox/src"
    assert circles(graph("intellectra_stripe_sandbox", base)) == []


def test_the_plugin_api_knows_nothing_of_the_hosts_internals():
    reaches = {f"{name} -> {target}" for name, targets in graph().items() if name in PLUGIN_API
               for target in targets if within(target, HOST_INTERNALS)}
    assert reaches == set()


def test_only_what_sits_above_the_host_imports_it():
    importers = {name for name, targets in graph().items() if "core.host" in targets}
    assert {name for name in importers if not within(name, ABOVE_THE_HOST)} == set()


def test_the_checks_see_every_kind_of_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n")
    (package / "b.py").write_text("def f():\n    from . import a\n")
    assert circles(graph("pkg", tmp_path)) == [["pkg.a", "pkg.b"]]
