"""``events`` and ``deliveries`` commands (filled in with the event pipeline)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Registers the pipeline's commands."""
