"""Render the plugin skeleton from the packaged Jinja2 templates into a new folder.

The templates live next to this module (``templates/*.j2``, shipped as package data) so the
skeleton always matches the host API of the installed host.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from core.models import HOST_API_VERSION
from core.scaffold.names import GUIDE, HOOK_ANCHORS, PluginNames, ScaffoldError

TEMPLATES = Path(__file__).parent / "templates"

FILES: dict[str, str] = {
    "pyproject.toml": "pyproject.toml.j2",
    "README.md": "README.md.j2",
    ".gitignore": "gitignore.j2",
    "src/{package}/__init__.py": "plugin.py.j2",
    "tests/test_conformance.py": "test_conformance.py.j2",
    "tests/test_{name}.py": "test_hooks.py.j2",
}
"""Each file of the skeleton (path with ``{package}``/``{name}``) and the template it comes from."""


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False)


def render_skeleton(names: PluginNames) -> dict[str, str]:
    """Every file of the skeleton as ``{relative path: text}``, without touching the disk."""
    env = _environment()
    major = HOST_API_VERSION.split(".")[0]
    values = dict(names=names, guide=GUIDE, anchors=HOOK_ANCHORS, requires_host=f"{major}.*",
                  next_major=int(major) + 1)
    return {path.format(package=names.package, name=names.name): env.get_template(template).render(**values)
            for path, template in FILES.items()}


def create_plugin(names: PluginNames, directory: Path) -> list[Path]:
    """Write the skeleton into ``directory`` (which must not exist, or be empty); return the files."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ScaffoldError(f"{directory} already exists and is not empty; new-plugin never overwrites files. "
                            "Choose another folder with --directory, or move the existing one away.",
                            code="scaffold_target_exists")
    files = render_skeleton(names)
    written: list[Path] = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
