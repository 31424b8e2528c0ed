"""docs/writing-a-plugin.md: every code block in it is exercised, and every link into it resolves.

Mirrored blocks must appear verbatim in examples/intellectra-slack; run blocks are extracted and
run here (the Acme Pay plugin and its tests) or by test_slack_example.py (console and registry
blocks, in a virtual environment).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from plugin_guide import EXAMPLE, anchors, blocks, run_file

from core.registry import parse_registry
from core.scaffold import GUIDE, HOOK_ANCHORS, PluginNames, render_skeleton

CONSOLE_BLOCKS_RUN_ELSEWHERE = {"scaffold", "develop", "enable"}
"""Console blocks run by test_slack_example.py (it looks each one up by title)."""


def test_every_code_block_says_how_it_is_tested():
    for block in blocks():
        assert block.title, f"{block.where()}: give the block a title"
        assert block.test in {"mirror", "run", "layout"}, f"{block.where()}: test= must be mirror, run or layout"


@pytest.mark.parametrize("block", [b for b in blocks() if b.test == "mirror"], ids=lambda b: f"line{b.line}")
def test_mirrored_blocks_appear_verbatim_in_the_example(block):
    source = (EXAMPLE / block.title).read_text(encoding="utf-8")
    assert block.text in source, f"{block.where()} differs from examples/intellectra-slack/{block.title}"


def test_the_layout_is_what_new_plugin_writes():
    (block,) = [b for b in blocks() if b.test == "layout"]
    top, *entries = block.text.splitlines()
    names = PluginNames.parse("slack")
    assert top == f"{names.distribution}/"
    assert [entry.split()[0] for entry in entries] == list(render_skeleton(names))


def test_registry_blocks_are_registries_the_host_accepts():
    registries = [b for b in blocks() if b.lang == "toml" and b.title == "registry.toml"]
    assert len(registries) == 3
    import tomllib

    for block in registries:
        registry = parse_registry(tomllib.loads(block.text), source=block.where())
        assert registry.autoload or registry.plugins["slack"].entry_point == "slack"


def test_console_blocks_are_the_ones_the_example_tests_run():
    titles = {b.title for b in blocks() if b.lang == "console"}
    assert titles == CONSOLE_BLOCKS_RUN_ELSEWHERE


def test_every_not_implemented_message_points_at_a_section_of_the_guide():
    assert GUIDE == "docs/writing-a-plugin.md"
    missing = {hook: anchor for hook, anchor in HOOK_ANCHORS.items() if anchor not in anchors()}
    assert not missing, f"no heading in the guide for {missing}"


def test_the_acme_pay_webhook_example_and_its_tests_pass(tmp_path):
    """The guide's webhook plugin and its tests, extracted and run with pytest, as their author would."""
    (tmp_path / "acme_pay.py").write_text(run_file("acme_pay.py"), encoding="utf-8")
    (tmp_path / "test_acme_pay.py").write_text(run_file("test_acme_pay.py"), encoding="utf-8")

    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "10 passed" in run.stdout
