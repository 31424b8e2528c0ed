"""Database problems an operator can fix, each told in one sentence: what is wrong and what to do.

``check_url`` refuses a URL before any connection is tried (unparseable, a misspelt or unsupported
database, PostgreSQL without its driver); ``explain`` turns what SQLAlchemy raised while connecting
or querying into a :class:`DatabaseProblem`. Messages show the URL without its password.
"""

from __future__ import annotations

import difflib
import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from core.errors import ConfigError

VARIABLE = "INTELLECTRA_DATABASE_URL"
EXAMPLES = "sqlite:///intellectra.db (one process) or postgresql://user:password@host:5432/name (several)"
UPGRADE = "run `intellectra-integrations db upgrade`"
POSTGRES_EXTRA = "pip install 'intellectra-integrations[postgres]'"
KNOWN_SCHEMES = ("postgresql", "postgres", "sqlite")
UNDEFINED_OBJECT = {"42P01", "42703"}  # PostgreSQL: undefined table, undefined column
AUTH_FAILED = {"28P01", "28000"}


class DatabaseProblem(ConfigError):
    code = "database_unavailable"


def check_url(raw: str) -> URL:
    """The parsed URL of a database this host supports, or a ``DatabaseProblem`` saying why not."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        # The raw value is never echoed: a URL that failed to parse may still hold a password.
        raise DatabaseProblem(f"{VARIABLE} is not a database URL; set it to {EXAMPLES}.",
                              code="database_url_invalid") from exc
    backend, _, driver = url.drivername.partition("+")
    if backend not in KNOWN_SCHEMES:
        close = difflib.get_close_matches(backend, KNOWN_SCHEMES, n=1, cutoff=0.6)
        if close:
            right = "postgresql" if close[0] == "postgres" else close[0]
            raise DatabaseProblem(f"{VARIABLE} starts with {backend}://, which is not a kind of database this host "
                                  f"knows; did you mean {right}://?", code="database_url_invalid")
        raise DatabaseProblem(f"{VARIABLE} names a {backend} database, which is not supported; use {EXAMPLES}.",
                              code="database_unsupported")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise DatabaseProblem(f"{VARIABLE} asks for the {driver} driver, which is not supported; write "
                                  "postgresql:// (the host uses psycopg 3).", code="database_unsupported")
        try:
            import psycopg  # noqa: F401  (only to learn whether the optional driver is installed)
        except ImportError as exc:
            raise DatabaseProblem(f"{VARIABLE} is a PostgreSQL URL but PostgreSQL support is not installed; "
                                  f"install it with {POSTGRES_EXTRA}.", code="database_driver_missing") from exc
    elif driver not in ("", "pysqlite"):
        raise DatabaseProblem(f"{VARIABLE} asks for the {driver} driver, which is not supported; write sqlite:///"
                              "path/to/file.db.", code="database_unsupported")
    return url


def explain(exc: BaseException, url: str | URL) -> DatabaseProblem:
    """What ``exc`` (raised by SQLAlchemy for the database at ``url``) means, and what to do about it."""
    if isinstance(exc, DatabaseProblem):
        return exc
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        try:
            check_url(str(url) if isinstance(url, str) else url.render_as_string(hide_password=False))
        except DatabaseProblem as problem:
            return problem
    parsed = _parse(url)
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        return _sqlite(exc, parsed)
    return _postgres(exc, parsed)


def _sqlite(exc: BaseException, url: URL) -> DatabaseProblem:
    path = url.database or "(memory)"
    text = _original_text(exc)
    if "unable to open database file" in text:
        return DatabaseProblem(f"Cannot open the SQLite database {path}: its folder does not exist or cannot be "
                               f"written; create the folder or point {VARIABLE} at a writable path.",
                               code="database_unavailable")
    if "readonly database" in text or "read-only" in text:
        return DatabaseProblem(f"The SQLite database {path} cannot be written; give this user write access to it "
                               f"and its folder, or point {VARIABLE} elsewhere.", code="database_unavailable")
    if "database is locked" in text:
        return DatabaseProblem(f"The SQLite database {path} stayed locked by another process; stop it, or use "
                               "PostgreSQL to run several processes.", code="database_unavailable")
    if "no such table" in text or "no such column" in text:
        return DatabaseProblem(f"The SQLite database {path} is missing tables of this version; {UPGRADE}.",
                               code="schema_outdated")
    if "file is not a database" in text:
        return DatabaseProblem(f"{path} is not a SQLite database; point {VARIABLE} at the host's database file.",
                               code="database_unavailable")
    return _generic(exc, f"the SQLite database {path}")


def _postgres(exc: BaseException, url: URL | None) -> DatabaseProblem:
    where = f"{url.host or 'localhost'}:{url.port or 5432}" if url is not None else "the configured server"
    name = url.database if url is not None else None
    text = _original_text(exc)
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if state in UNDEFINED_OBJECT or re.search(r'relation "[^"]+" does not exist|column "[^"]+" does not exist', text):
        return DatabaseProblem(f"The database {name} has not been set up for this version of the host (tables are "
                               f"missing); {UPGRADE}.", code="schema_outdated")
    if re.search(r'database "[^"]+" does not exist', text):
        return DatabaseProblem(f'The database "{name}" does not exist on the PostgreSQL server at {where}; create it '
                               f"(createdb {name}), then {UPGRADE}.", code="database_missing")
    if state in AUTH_FAILED or "password authentication failed" in text or re.search(r'role "[^"]+" does not exist',
                                                                                       text):
        user = url.username if url is not None else "(none)"
        return DatabaseProblem(f"The PostgreSQL server at {where} refused the login of user {user}; fix the user or "
                               f"password in {VARIABLE}.", code="database_login_refused")
    if "Connection refused" in text or "timeout expired" in text or "timed out" in text:
        return DatabaseProblem(f"Cannot connect to PostgreSQL at {where} (nothing answers there); start the server "
                               f"or fix the host and port in {VARIABLE}.", code="database_unreachable")
    if "failed to resolve host" in text or "could not translate host name" in text:
        return DatabaseProblem(f"Cannot find the PostgreSQL host {url.host if url else ''} (the name does not "
                               f"resolve); fix the host in {VARIABLE}.", code="database_unreachable")
    if "too many clients" in text:
        return DatabaseProblem(f"The PostgreSQL server at {where} has no free connections (too many clients); "
                               "raise its max_connections or run fewer processes.", code="database_unavailable")
    return _generic(exc, f"PostgreSQL at {where}")


def _generic(exc: BaseException, what: str) -> DatabaseProblem:
    first = _original_text(exc).strip().splitlines()[0] if _original_text(exc).strip() else exc.__class__.__name__
    return DatabaseProblem(f"The database ({what}) failed: {first[:300]}; check {VARIABLE}, or run with --verbose "
                           "for details.", code="database_unavailable")


def _original_text(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and background link."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig)
    if isinstance(exc, SQLAlchemyError):
        return str(exc).split("\n[SQL:", 1)[0].split("\n(Background", 1)[0]
    return str(exc)


def _parse(url: str | URL) -> URL | None:
    if isinstance(url, URL):
        return url
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None
