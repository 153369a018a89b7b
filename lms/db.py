"""Column types and helpers shared by every package's models."""

import enum
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

#: Request methods that only read; every other request may read, then write.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def now_utc() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Datetime stored as naive UTC and loaded as aware UTC.

    SQLite keeps no zone, so every value is normalised to UTC on write and
    given the UTC zone back on read. Naive values are rejected on write.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def enum_column(enum_cls: type[enum.Enum], **kwargs) -> sa.Enum:
    """Return an Enum type stored by value with a CHECK constraint on every backend."""
    return sa.Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        name=kwargs.pop("name", enum_cls.__name__.lower()),
        **kwargs,
    )
