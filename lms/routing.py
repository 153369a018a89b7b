"""URL converters shared by every blueprint."""

from flask import Flask
from werkzeug.routing import IntegerConverter

#: Largest value of a signed 64-bit primary key (SQLite INTEGER, PostgreSQL bigint).
MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """Return a form or query value as a primary key, or None if no row can have it.

    Digits beyond ``MAX_ID`` would make the database driver raise OverflowError.
    """
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


class BoundedIntegerConverter(IntegerConverter):
    """The ``int`` converter, limited to values a primary key can hold.

    Without the bound, ``/courses/99999999999999999999`` reaches the database
    driver, which raises OverflowError (a 500). With it, the URL does not
    match and the visitor gets a 404.
    """

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the converters; call before any blueprint is registered."""
    app.url_map.converters["int"] = BoundedIntegerConverter
