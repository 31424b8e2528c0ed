"""docs/host-app.md: every code block is in the example or run, and its API table is the stable API.

Mirrored blocks appear verbatim in examples/intellectra-host (whose own tests run the whole story in
Chromium); the console block serves the example with the command as written.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from plugin_guide import Block
from plugin_guide import blocks as guide_blocks  # the same block syntax as the plugin guide's

from core.host import HOST_APP_API, HOST_APP_API_VERSION
from core.testing import free_port

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "host-app.md"
EXAMPLE = REPO / "examples" / "intellectra-host"


def blocks() -> list[Block]:
    return guide_blocks(GUIDE)


def test_every_code_block_says_how_it_is_tested():
    assert blocks()
    for block in blocks():
        assert block.title and block.test in {"mirror", "run"}, f"{block.where()}: title= and test="


@pytest.mark.parametrize("block", [b for b in blocks() if b.test == "mirror"], ids=lambda b: f"line{b.line}")
def test_mirrored_blocks_appear_verbatim_in_the_example(block):
    source = (EXAMPLE / block.title).read_text(encoding="utf-8")
    assert block.text in source, f"{block.where()} differs from examples/intellectra-host/{block.title}"


def test_the_guide_demonstrates_each_part_of_the_embedding():
    text = "".join(b.text for b in blocks())
    for needle in ("create_app(host, layout=", "sign_in_url=", "def resolve_tenant(", "def perform_action(",
                   "def observe_domain_event(", "host.emit(", "conn=conn", "register_host_app(",
                   "host.run_workers(", "submit_card_form(", "Mount(integrations_prefix"):
        assert needle in text, f"no code block of docs/host-app.md shows {needle}"


def test_the_stable_api_table_lists_exactly_the_stable_host_app_api():
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## The stable host-app API", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([\w.]+)` \|", section, re.M)

    assert tuple(listed) == HOST_APP_API
    assert f"`HOST_API_VERSION` is {HOST_APP_API_VERSION}.x" in section


def test_the_serve_command_serves_the_example_site(tmp_path):
    (block,) = [b for b in blocks() if b.lang == "console"]
    (command,) = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]
    port = free_port()
    command = command.replace("--port 8800", f"--port {port}")
    bin_dir = Path(sys.executable).parent
    assert shutil.which("intellectra-host", path=str(bin_dir)), (
        f"the example is not installed in {bin_dir.parent}: run `make .venv/bin/.installed` (it installs "
        "examples/intellectra-host beside the host)")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INTELLECTRA_")},
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}

    server = subprocess.Popen(command, shell=True, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        login = wait_for_page(f"http://127.0.0.1:{port}/login", server)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        output, _ = server.communicate(timeout=30)

    assert login.status_code == 200 and "Sign in to Intellectra" in login.text
    assert "sign in as ada@example.com / watercolour" in output
    assert (tmp_path / "intellectra-host.db").exists()


def wait_for_page(url: str, server: subprocess.Popen[str], timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"`intellectra-host serve` did not answer on {url}") from None
            time.sleep(0.2)
