"""The figures a run proved (events, duplicates, kills survived), kept for docs/operations.md."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness import sizes

FIGURES = Path(os.environ.get("INTELLECTRA_RELIABILITY_FIGURES", "test-artifacts/reliability-figures.jsonl"))


def record(name: str, figures: dict[str, object]) -> None:
    """Append one run's figures as a JSON line (and print it: ``pytest -s`` shows it)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"test": name, "events_setting": sizes.EVENTS, **figures}, default=str)
    with FIGURES.open("a") as out:
        out.write(line + "\n")
    print(line)
