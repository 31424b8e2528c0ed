"""Reading docs/writing-a-plugin.md: its code blocks (with how each is tested) and its anchors.

A block's info string says how the tests exercise it::

    ```python title="src/intellectra_slack/__init__.py" test="mirror"   appears verbatim in the example
    ```python title="acme_pay.py" test="run"                             blocks with one title form a file, run
    ```toml title="registry.toml" test="run"                             loaded by the host in the e2e tests
    ```console title="enable" test="run"                                 its $ lines run in a venv
    ```text title="layout" test="layout"                                 what new-plugin writes
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

REPO = Path(__file__).resolve().parents[2]
GUIDE_PATH = REPO / "docs" / "writing-a-plugin.md"
EXAMPLE = REPO / "examples" / "intellectra-slack"

FENCE = re.compile(r"^```(?P<lang>\w*)(?P<info>[^\n]*)\n(?P<text>.*?)^```[ \t]*$", re.M | re.S)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)


@attrs.frozen
class Block:
    lang: str
    title: str
    test: str
    text: str
    line: int
    guide: str = "docs/writing-a-plugin.md"

    def where(self) -> str:
        return f"{self.guide}:{self.line} ({self.lang} {self.title!r})"


def guide_text() -> str:
    return GUIDE_PATH.read_text(encoding="utf-8")


def blocks(guide: Path = GUIDE_PATH) -> list[Block]:
    """The guide's code blocks in order (docs/host-app.md writes its blocks the same way)."""
    text = guide.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = dict(ATTRIBUTE.findall(match["info"]))
        found.append(Block(lang=match["lang"], title=info.get("title", ""), test=info.get("test", ""),
                           text=match["text"], line=text.count("\n", 0, match.start()) + 1,
                           guide=guide.relative_to(REPO).as_posix()))
    return found


def blocks_titled(title: str, *, lang: str | None = None) -> list[Block]:
    return [b for b in blocks() if b.title == title and (lang is None or b.lang == lang)]


def run_file(title: str) -> str:
    """The file formed by every ``test="run"`` block with this title, in the guide's order."""
    parts = [b.text.rstrip("\n") for b in blocks_titled(title) if b.test == "run"]
    assert parts, f"the guide has no run block titled {title!r}"
    return "\n\n\n".join(parts) + "\n"


def console(title: str) -> list[str]:
    """The commands (``$ `` lines, prompt removed) of the console block with this title."""
    (block,) = blocks_titled(title, lang="console")
    return [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped (not _ or -), spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors() -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCE.sub("", guide_text()))}
