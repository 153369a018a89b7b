"""Checks of the benchmark tools' command-line input, shared by every tool."""

import argparse
import shutil
from pathlib import Path

import sqlalchemy as sa

#: Alembic's bookkeeping table: a migrated database without data contains one row there.
BOOKKEEPING_TABLES = {"alembic_version"}


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"invalid value {value}: must be {minimum} or more")
    return value


def positive_int(text: str) -> int:
    """Argparse type of a count that must be 1 or more."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """Argparse type of a whole number that must be 0 or more."""
    return _whole_number(text, 0)


def absolute_sqlite_url(database_url: str) -> str:
    """Resolve a relative SQLite path against the working directory.

    Flask-SQLAlchemy would otherwise resolve it against the instance folder.
    """
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and not url.database.startswith("/"):
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


def require_sqlite_file(database_url: str) -> None:
    """Raise SystemExit if a SQLite URL names a file that does not exist.

    Opening a missing file would create an empty database, and the run would
    fail later on a missing table. This check creates nothing, and other
    databases pass it.
    """
    url = sa.engine.make_url(absolute_sqlite_url(database_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    if url.query.get("uri") in ("true", "1"):  # a "file:" URI, not a plain path
        return
    path = Path(url.database)
    if not path.is_file():
        raise SystemExit(
            f"SQLite database {path} not found. Create it first with "
            f"python -m bench.generate --tier S --database-url sqlite:///{path} "
            f"(--tier M for more data)."
        )


def require_programs(*names: str) -> None:
    """Raise SystemExit naming the programs in ``names`` that are not on PATH.

    Each program is checked before the tool logs learners in, which takes
    minutes. The Debian packages of wrk and nginx have the programs' names.
    """
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise SystemExit(
            f"{', '.join(missing)} not found on PATH. Install it first, on Debian with "
            f"apt-get install {' '.join(missing)}."
        )


def database_name(database_url: str) -> str:
    """Return a database's name for messages: the SQLite file, or the URL without password."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def tables_with_rows(database_url: str) -> list[str]:
    """Return the names of the database's tables that hold at least one row."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = sorted(set(sa.inspect(conn).get_table_names()) - BOOKKEEPING_TABLES)
            return [
                name for name in names
                if conn.execute(
                    sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)
                ).first() is not None
            ]
    finally:
        engine.dispose()


def require_empty_database(database_url: str, advice: str) -> None:
    """Raise SystemExit, changing nothing, if any table of the database contains rows.

    ``advice`` ends the message with what to pass instead.
    """
    filled = tables_with_rows(database_url)
    if filled:
        listed = ", ".join(filled[:5])
        if len(filled) > 5:
            listed += f" and {len(filled) - 5} more"
        tables = f"table {listed} contains" if len(filled) == 1 else f"tables {listed} contain"
        raise SystemExit(
            f"database {database_name(database_url)} is not empty: {tables} rows. {advice}"
        )
