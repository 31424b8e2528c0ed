"""Shared test setup: the host's own test kit (core.testing) is loaded as a pytest plugin.

Tests marked ``postgres_only`` check what only PostgreSQL can do (two writers inside one row's race);
the SQLite pass deselects them (counted as "deselected" in its summary) and the PostgreSQL pass
(``INTELLECTRA_TEST_DB=postgres``, part of ``make test``) runs them, so no run reports them skipped.
"""

from __future__ import annotations

import pytest

from core.testing import database_kind


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if database_kind() == "postgres":
        return
    postgres_only = [item for item in items if item.get_closest_marker("postgres_only")]
    if postgres_only:
        config.hook.pytest_deselected(items=postgres_only)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
