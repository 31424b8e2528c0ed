""""Nothing stored, nothing changed": the content of every table, compared before and after.

A refusal that wrote anything at all — an inbound row, an audit entry, a touched ``last_used_at``, a
consumed connect state — shows up as a difference naming the table. The one table left out is
``rate_limits``: every request made with a valid key counts against that key's limit, refused or not
(a key sending bad requests in a loop must be slowed down too), so its counter moving is the limiter
working, not something stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from core.store.tables import metadata

Snapshot = dict[str, list[tuple[Any, ...]]]
BOOKKEEPING = {"rate_limits"}


def take(engine: Engine) -> Snapshot:
    with engine.connect() as c:
        return {table.name: sorted(tuple(repr(v) for v in row) for row in c.execute(select(table)))
                for table in metadata.sorted_tables if table.name not in BOOKKEEPING}


def changes(before: Snapshot, after: Snapshot) -> dict[str, str]:
    """Tables whose content differs, with a short account of how."""
    diff = {}
    for name in before:
        old, new = set(before[name]), set(after[name])
        if old != new:
            diff[name] = f"+{len(new - old)} row(s), -{len(old - new)} row(s): {sorted(new - old)[:2]!r}"
    return diff
