"""Finding planted secrets where they must never be: log lines, CLI output, database rows in plaintext."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy import Engine, select

from core.store.tables import metadata


def find_in_text(text: str, planted: Mapping[str, str], where: str) -> list[str]:
    """``"<what> in <where>: <the line>"`` for every planted value found (the value itself is masked)."""
    found = []
    for what, value in planted.items():
        if not value or value not in text:
            continue
        for line in text.splitlines():
            if value in line:
                found.append(f"{what} in {where}: {line.replace(value, '<' + what + '>')[:300]}")
                break
    return found


def find_in_files(files: Iterable[Path], planted: Mapping[str, str]) -> list[str]:
    found = []
    for path in files:
        found.extend(find_in_text(path.read_text(errors="replace"), planted, path.name))
    return found


def database_dump(engine: Engine) -> str:
    """Every row of every table as text (what a leaked backup would show)."""
    lines = []
    with engine.connect() as c:
        for table in metadata.sorted_tables:
            for row in c.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


def find_in_database(engine: Engine, planted: Mapping[str, str]) -> list[str]:
    return find_in_text(database_dump(engine), planted, "the database")
