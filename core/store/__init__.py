"""Persistence: SQLAlchemy 2 Core over SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from core.store import tables
from core.store.dialect import READ_ONLY_OPTION
from core.store.engine import database_url_from_env, make_engine, upgrade


class Store:
    """The engine plus transaction helpers. Services take a ``Connection`` so callers can join them
    into one transaction (the host app's, the worker's)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self, conn: Connection | None = None) -> Iterator[Connection]:
        """A transaction, or the caller's when ``conn`` is given (then the caller commits)."""
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as new:
            yield new

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection: on SQLite it never takes the write lock (and never waits for it)."""
        with self.engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as conn:
            yield conn

    @contextmanager
    def read_in(self, conn: Connection | None = None) -> Iterator[Connection]:
        """The caller's transaction when ``conn`` is given, else a read-only connection (``read``)."""
        if conn is not None:
            yield conn
            return
        with self.read() as new:
            yield new

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"<Store {self.engine.url.render_as_string(hide_password=True)}>"


__all__ = ["Store", "database_url_from_env", "tables"]
