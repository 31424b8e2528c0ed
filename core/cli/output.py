"""Printing listings: a rich table for people, ``--json`` for machines. Never prints secrets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.redact import redact

F = TypeVar("F", bound=Callable[..., Any])
console = Console(highlight=False, soft_wrap=True)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def emit_listing(rows: Sequence[dict[str, Any]], columns: Iterable[str], *, as_json: bool, title: str = "",
                 key: str = "items") -> None:
    if as_json:
        click.echo(redact(json.dumps({key: list(rows)}, indent=2, default=str)))
        return
    table = Table(title=title or None)
    cols = list(columns)
    for col in cols:
        table.add_column(col)
    for row in rows:
        # Cell text is data, not rich markup: "[plugins.x]" must print as written.
        table.add_row(*[escape(redact("" if row.get(c) is None else str(row.get(c)))) for c in cols])
    console.print(table)
    if not rows:
        console.print("[dim](none)[/dim]")


def emit_object(obj: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        click.echo(redact(json.dumps(obj, indent=2, default=str)))
        return
    for key, value in obj.items():
        console.print(f"[bold]{escape(key)}[/bold]: {escape(redact(str(value)))}")
