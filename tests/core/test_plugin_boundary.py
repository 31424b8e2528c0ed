"""The plugin boundary holds: plugin code reaches the host only through ``core``'s public surface.

Every module of the first-party plugins, of the example plugin distributions (those with an
``intellectra.integrations`` entry point) and of the skeleton ``new-plugin`` writes is read (not
imported) and checked: imports from ``core`` are from its public modules only, nothing reaches for a
``.host`` (or a context's private services), and no hook takes a ``host`` argument. A first-party
plugin may use nothing a third party could not. The example host app embeds the host (its API is
the ``Host``), so only its hooks are checked: not one of them gets the host either.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from core.scaffold import PluginNames, render_skeleton

ROOT = Path(__file__).resolve().parents[2]

PUBLIC_MODULES = {"core", "core.cli", "core.cli.output", "core.testing"}
"""``core`` itself, the CLI helpers for plugin commands, and the test kit."""
PUBLIC_CLI_NAMES = {"plugin_context"}
"""What a plugin may import from ``core.cli`` (not ``get_host``: that is the host)."""
PRIVATE_ATTRIBUTES = {"host", "_host", "_services", "get_host"}
SANDBOX = "plugins/stripe_connect/sandbox/src/intellectra_stripe_sandbox"
OWN_BIND_ADDRESS = {f"{SANDBOX}/__main__.py": {"args"}, f"{SANDBOX}/server.py": {"self"}}
"""The Stripe sandbox's own ``--host`` bind address (``args.host``, ``self.host``), not the Host."""


def violations(source: str, where: str, *, host_app: bool = False) -> list[str]:
    """Every way ``source`` reaches past the plugin API, as ``where:line: what`` (a host app's module:
    only hooks that take a host)."""
    found: list[str] = []
    allowed_bases = OWN_BIND_ADDRESS.get(where, set())
    for node in ast.walk(ast.parse(source)):
        if host_app and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "core" and node.module not in PUBLIC_MODULES:
                found.append(f"{where}:{node.lineno}: imports from private module {node.module}")
            if node.module == "core.cli":
                for alias in node.names:
                    if alias.name not in PUBLIC_CLI_NAMES:
                        found.append(f"{where}:{node.lineno}: imports core.cli.{alias.name} (use plugin_context)")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "core" and alias.name not in PUBLIC_MODULES:
                    found.append(f"{where}:{node.lineno}: imports private module {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if not (node.attr == "host" and base in allowed_bases):
                found.append(f"{where}:{node.lineno}: reaches for .{node.attr}")
        elif isinstance(node, ast.Name) and node.id == "get_host":
            found.append(f"{where}:{node.lineno}: uses get_host (use core.cli.plugin_context)")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_hook(node):
            names = [a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]]
            if "host" in names:
                found.append(f"{where}:{node.lineno}: hook {node.name} takes a host argument")
    return found


def _is_hook(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    def name(decorator: ast.expr) -> str:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")

    return any(name(d) == "hookimpl" for d in node.decorator_list)


def is_plugin_distribution(example: Path) -> bool:
    project = tomllib.loads((example / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return "intellectra.integrations" in project.get("entry-points", {})


def example_sources(*, plugins: bool) -> dict[str, str]:
    """``{path: source}`` of the example distributions that are plugins (or, ``plugins=False``, not)."""
    examples = [e for e in ROOT.glob("examples/*") if (e / "pyproject.toml").exists()]
    files = [f for e in examples if is_plugin_distribution(e) == plugins for f in e.glob("src/**/*.py")]
    return {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8") for f in files}


def plugin_sources() -> dict[str, str]:
    """``{path: source}`` of every plugin module: first-party plugins, example plugins, the skeleton."""
    files = [f for f in ROOT.glob("plugins/**/*.py") if not {"node_modules", "build"} & set(f.parts)]
    sources = {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8") for f in files}
    sources.update(example_sources(plugins=True))
    for path, text in render_skeleton(PluginNames.parse("acme_crm")).items():
        if path.endswith(".py"):
            sources[f"new-plugin skeleton: {path}"] = text
    return sources


def test_the_boundary_is_checked_on_every_kind_of_plugin_module():
    paths = plugin_sources()
    assert any(p.startswith("plugins/stripe_connect/") for p in paths)
    assert any(p.startswith("plugins/zapier/") for p in paths)
    assert any(p.startswith("examples/intellectra-slack/src/") for p in paths)
    assert any(p.startswith("new-plugin skeleton: src/") for p in paths)
    assert any(p.startswith("new-plugin skeleton: tests/") for p in paths)


def test_no_plugin_module_reaches_past_the_plugin_api():
    found = [v for path, source in plugin_sources().items() for v in violations(source, path)]
    assert not found, "plugins must use only core's public API:\n" + "\n".join(found)


def test_no_hook_of_the_example_host_app_gets_the_host():
    sources = example_sources(plugins=False)
    assert any("hookimpl" in source for source in sources.values()), "the host app example implements hooks"
    found = [v for path, source in sources.items() for v in violations(source, path, host_app=True)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("source", "what"), [
    ("from core.host import Host", "private module core.host"),
    ("import core.store.tables", "private module core.store.tables"),
    ("from core.cli import get_host", "core.cli.get_host"),
    ("def f(ctx):\n    return ctx.host.api_keys", "reaches for .host"),
    ("def f(ctx):\n    return ctx._services", "reaches for ._services"),
    ("def f(api):\n    return api.host.subscriptions.list('t')", "reaches for .host"),
    ("@hookimpl\ndef web_routes(host):\n    return []", "hook web_routes takes a host argument"),
    ("@core.hookimpl(trylast=True)\ndef resolve_tenant(request, host):\n    return None", "takes a host argument"),
])
def test_the_check_catches_each_way_past_the_api(source, what):
    found = violations(source, "plugin.py")
    assert len(found) == 1 and what in found[0], found


def test_a_host_apps_module_may_use_the_host_but_its_hooks_never_get_it():
    source = ("from core.web.app import create_app\ndef serve(site):\n    return create_app(site.host)\n"
              "@hookimpl\ndef resolve_tenant(request, host):\n    return None\n")
    assert violations(source, "site.py", host_app=True) == ["site.py:5: hook resolve_tenant takes a host argument"]


def test_public_imports_and_a_providers_own_host_field_are_fine():
    source = ("from core import IntegrationContext, hookimpl\nfrom core.cli import plugin_context\n"
              "from core.cli.output import emit_listing\nfrom core.testing import IntegrationConformance\n"
              "def f(url):\n    return url.hostname\n"
              "@hookimpl\ndef web_routes(ctx):\n    return []\n")
    assert violations(source, "plugin.py") == []
