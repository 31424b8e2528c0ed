"""Creating the engine and bringing the schema up to date with Alembic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, inspect

from core.store.dialect import engine_options, install_sqlite_pragmas, normalise_url

if TYPE_CHECKING:  # Alembic is imported when a migration runs, not on every start (``plugins list``)
    from alembic.config import Config

DEFAULT_DATABASE_URL = "sqlite:///intellectra.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url_from_env() -> str:
    return normalise_url(os.environ.get("INTELLECTRA_DATABASE_URL") or DEFAULT_DATABASE_URL)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    engine = create_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def is_up_to_date(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())
