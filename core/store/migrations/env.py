"""Alembic environment: the engine comes from the host (``cfg.attributes["engine"]``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from core.store.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` run by hand, e.g. to autogenerate
    from core.store.engine import database_url_from_env

    engine = create_engine(database_url_from_env())

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
