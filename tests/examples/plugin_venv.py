"""Throwaway virtual environments where a plugin is pip-installed the way a site operator would.

Why it is built this way (and fast): a venv with its own copy of every dependency would take a
minute to fill from PyPI. Instead the venv is created without pip (instant) and a ``.pth`` file
adds *this* environment's site-packages (``site.addsitedir``, so its ``.pth`` files run too): the
host, pytest and all dependencies resolve from there, while the plugin under test is installed
into the venv alone, by the real pip, from its real ``pyproject.toml``. Entry points are then
discovered exactly as in production (``importlib.metadata`` over the venv's ``sys.path``), and the
plugin is invisible to every other test (it is not installed where they run).

``bin/`` gets the launchers pip would write for console scripts (``intellectra-integrations``,
``pytest``) and a ``pip`` that drives this environment's pip at the venv (``pip --python``), offline
(``--no-index``: dependencies are already satisfied through the ``.pth``). So shell commands from
the guide run as written, with the venv first on ``PATH``.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from packaging.version import Version

HOST_SITE_PACKAGES = sysconfig.get_paths()["purelib"]

LAUNCHER = """#!{python}
import sys
from {module} import {function}
sys.exit({function}())
"""

PIP = """#!{host_python}
import subprocess, sys
args = sys.argv[1:]
if args[:1] in (["install"], ["wheel"]):
    args[1:1] = {extra!r}
sys.exit(subprocess.call([{host_python!r}, "-m", "pip", "--python", {python!r}, *args]))
"""


def offline_build_flags() -> list[str]:
    """Build without fetching setuptools when this environment can build wheels itself."""
    try:
        setuptools = Version(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return []
    try:
        importlib.metadata.version("wheel")
        has_wheel = True
    except importlib.metadata.PackageNotFoundError:
        has_wheel = False
    if setuptools >= Version("70.1") or (setuptools >= Version("64") and has_wheel):
        return ["--no-build-isolation", "--no-index"]
    return []  # build isolation: pip fetches the build backend from the index


class PluginVenv:
    """A venv at ``path`` that sees the host's installation; plugins are pip-installed into it."""

    def __init__(self, path: Path, *, find_links: Path | None = None) -> None:
        self.path = path
        venv.EnvBuilder(with_pip=False, symlinks=True).create(path)
        self.bin = path / "bin"
        self.python = self.bin / "python"
        site = Path(self._site_packages())
        (site / "_intellectra_host.pth").write_text(
            f"import site; site.addsitedir({HOST_SITE_PACKAGES!r})\n", encoding="utf-8")
        extra = offline_build_flags() + (["--find-links", str(find_links)] if find_links else [])
        self._script("pip", PIP.format(host_python=sys.executable, python=str(self.python), extra=extra))
        self._script("intellectra-integrations", LAUNCHER.format(python=self.python, module="core.cli",
                                                                 function="main"))
        self._script("pytest", LAUNCHER.format(python=self.python, module="pytest", function="console_main"))

    def _site_packages(self) -> str:
        out = subprocess.run([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=30)
        return out.stdout.strip()

    def _script(self, name: str, text: str) -> None:
        path = self.bin / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for commands in this venv: its ``bin`` first, no stray host settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTELLECTRA_", "PYTEST_"))}
        env.update(PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(self.path),
                   PYTHONDONTWRITEBYTECODE="1", **extra)
        env.pop("PYTHONPATH", None)
        return env

    def sh(self, command: str, *, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a shell command line (as written in the guide) in this venv."""
        return subprocess.run(command, shell=True, cwd=cwd, env=env or self.env(), capture_output=True, text=True,
                               timeout=timeout)


def console_commands(block: str) -> list[str]:
    """The ``$ `` lines of a console block, without the prompt."""
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]
