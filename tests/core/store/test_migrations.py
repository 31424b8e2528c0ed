"""Alembic migrations bring an empty database (SQLite or PostgreSQL) to the schema the code uses."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from core.store.engine import is_up_to_date, make_engine, upgrade
from core.store.tables import metadata
from core.testing import PostgresDatabase, postgres_admin_url, postgres_available, skip_or_fail


def assert_schema_matches(engine):
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspect(engine).get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    assert is_up_to_date(engine)


def test_migrations_upgrade_an_empty_sqlite_database(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    upgrade(engine)
    assert_schema_matches(engine)
    upgrade(engine)  # idempotent
    engine.dispose()


def test_migrations_upgrade_an_empty_postgresql_database():
    if not postgres_available():
        skip_or_fail(f"PostgreSQL is not reachable at {postgres_admin_url()}")
    db = PostgresDatabase(postgres_admin_url())
    try:
        engine = make_engine(db.url)
        upgrade(engine)
        assert_schema_matches(engine)
        engine.dispose()
    finally:
        db.drop()


def test_the_models_and_the_migrations_agree(tmp_path):
    """An autogenerate diff between the migrated database and the tables must be empty."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path}/diff.db")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == [], "tables.py changed without a migration: run alembic revision --autogenerate"


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgres_urls_use_psycopg_3(url):
    from core.store.dialect import normalise_url

    assert normalise_url(url).startswith("postgresql+psycopg://")
