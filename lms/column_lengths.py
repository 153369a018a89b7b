"""Maximum lengths of text columns, read from the models.

Importers check uploaded values against these lengths before they write
anything. PostgreSQL rejects a value longer than its ``varchar(n)`` column,
and SQLite stores it at full length, so without this check one database
fails on confirming and the other keeps data the schema does not allow.
"""

from typing import Optional


def max_length(column) -> Optional[int]:
    """Return the maximum length in characters of a mapped or table column.

    ``column`` is a model attribute such as ``User.full_name`` or a table
    column such as ``User.__table__.c.full_name``. Returns None for a column
    without a length, such as ``Text``.
    """
    return getattr(column.type, "length", None)


def too_long(value: Optional[str], column) -> Optional[int]:
    """Return the column's maximum length when ``value`` is longer, else None."""
    limit = max_length(column)
    if limit is None or value is None or len(value) <= limit:
        return None
    return limit
