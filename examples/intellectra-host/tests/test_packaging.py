"""The example installs like any distribution: its wheel carries the templates, the stylesheet, the
registry and the console script that serve the site."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_what_serving_the_site_needs(tmp_path):
    # Built from a copy: pip builds in the source folder, and a test must leave the checkout as it was.
    source = tmp_path / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("intellectra_host_example-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()

    templates = {p.name for p in (EXAMPLE / "src" / "intellectra_host" / "templates").glob("*.html")}
    assert {f"intellectra_host/templates/{t}" for t in templates} <= names
    assert {"intellectra_host/registry.toml", "intellectra_host/static/site.css", "intellectra_host/py.typed"} <= names
    assert "intellectra-host = intellectra_host.cli:main" in scripts
    assert not [n for n in names if n.startswith("tests/")], "the tests stay in the source tree"
