"""One-line explanations of database errors for the ``flask lms`` commands.

An operator who runs a command against a database that is down, empty or
busy needs the cause and the next step, not a SQLAlchemy traceback. The
messages are in English, like the rest of the command output.
"""

import re
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import URL

UPGRADE_COMMAND = "flask --app wsgi db upgrade"
#: True because Flask-SQLAlchemy removes, and so rolls back, the command's
#: session before the group reports the error.
ROLLED_BACK = "The command's uncommitted changes were rolled back."

#: PostgreSQL SQLSTATE codes (PostgreSQL manual, appendix "Error Codes").
UNDEFINED_TABLE = "42P01"
UNDEFINED_COLUMN = "42703"
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
INVALID_CATALOG_NAME = "3D000"
INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"
UNIQUE_VIOLATION = "23505"
STRING_TOO_LONG = "22001"


def describe_database_error(exc: sa.exc.SQLAlchemyError, url: Optional[URL]) -> str:
    """Return one line that names what failed in the database and how to fix it.

    ``url`` is the configured database URL, shown without its password.
    """
    where = _where(url)
    detail = _first_line(exc)
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    lowered = detail.lower()
    return (
        _setup_message(url, where, detail, lowered, code)
        or _busy_message(where, lowered, code)
        or _rejected_message(exc, detail, code)
        or _connection_message(exc, where, detail, lowered)
        or f"The database {where} reported an error: {detail}."
    )


def _setup_message(url, where, detail, lowered, code) -> Optional[str]:
    """Name a missing schema, database file or database, or a rejected login."""
    missing = _missing_object(lowered, code)
    if missing:
        return (
            f"The database {where} has no {missing}: its schema is missing or older "
            f"than this release. Run `{UPGRADE_COMMAND}` first."
        )
    if "unable to open database file" in lowered:
        return (
            f"Cannot open the SQLite database {where}: check that its folder exists "
            "and is writable, or set LMS_DATABASE_URL to another file."
        )
    if code == INVALID_CATALOG_NAME or re.search(
        r'database "[^"]+" does not exist', lowered
    ):
        name = url.database if url is not None else "?"
        return (
            f"The database {name} does not exist on the server of {where}. Create it "
            f"(createdb {name}), then run `{UPGRADE_COMMAND}`."
        )
    if (
        code in (INVALID_PASSWORD, INVALID_AUTHORIZATION)
        or "authentication failed" in lowered
    ):
        return (
            f"The database server of {where} rejected the login: {detail}. Correct "
            "the user or password in LMS_DATABASE_URL."
        )
    return None


def _busy_message(where, lowered, code) -> Optional[str]:
    if "database is locked" in lowered or code in (
        LOCK_NOT_AVAILABLE,
        DEADLOCK_DETECTED,
    ):
        return (
            f"The database {where} is locked by another process, such as a running "
            "server, scheduler or backup. Try again when it has finished."
        )
    if code == SERIALIZATION_FAILURE:
        return (
            f"Another process changed the same rows of {where} at the same time. "
            "Run the command again."
        )
    return None


def _rejected_message(exc, detail, code) -> Optional[str]:
    """Name a value or row that a constraint or column type rejected."""
    if isinstance(exc, sa.exc.IntegrityError):
        diag = getattr(getattr(exc, "orig", None), "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        rule = f"{detail} (constraint {constraint})" if constraint else detail
        if code == UNIQUE_VIOLATION or "unique constraint failed" in detail.lower():
            return (
                f"A row with the same values already exists: {rule}. Use other "
                f"values. {ROLLED_BACK}"
            )
        return (
            f"The database rejected the change: {rule}. Correct the input. "
            f"{ROLLED_BACK}"
        )
    if code == STRING_TOO_LONG:
        return (
            f"A value is too long for its database column: {detail}. Shorten it. "
            f"{ROLLED_BACK}"
        )
    return None


def _connection_message(exc, where, detail, lowered) -> Optional[str]:
    if not isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return None
    if not _is_connection(exc, lowered):
        return None
    return (
        f"Cannot connect to the database {where}: {_reason(detail)}. Start the "
        "database server, or correct LMS_DATABASE_URL."
    )


def _missing_object(lowered: str, code: Optional[str]) -> Optional[str]:
    """Return "table X" or "column X" when the error reports that it does not exist."""
    for pattern, kind in (
        (r"no such table: (\S+)", "table"),
        (r'relation "([^"]+)" does not exist', "table"),
        (r"no such column: (\S+)", "column"),
        (r'column "?([^"\s]+)"? does not exist', "column"),
        (r"column (\S+) does not exist", "column"),
    ):
        match = re.search(pattern, lowered)
        if match:
            return f"{kind} {match.group(1)}"
    if code == UNDEFINED_TABLE:
        return "table that this release uses"
    if code == UNDEFINED_COLUMN:
        return "column that this release uses"
    return None


def _is_connection(exc: sa.exc.DBAPIError, lowered: str) -> bool:
    if exc.connection_invalidated:
        return True
    return any(
        phrase in lowered
        for phrase in (
            "connection",
            "could not connect",
            "timeout expired",
            "could not translate host",
        )
    )


def _reason(detail: str) -> str:
    """Return the last clause of a libpq message, e.g. "Connection refused"."""
    return detail.rsplit(": ", 1)[-1].strip() or detail


def _first_line(exc: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0].strip() if text else exc.__class__.__name__


def _where(url: Optional[URL]) -> str:
    if url is None:
        return "(unknown URL)"
    if url.get_backend_name() == "sqlite":
        return url.database or "in memory"
    return url.render_as_string(hide_password=True)
