"""Ranges of dates and ids that forms accept, so every stored value fits its column.

A date far in the past or future parses, but converting it between the
institution's time zone and UTC, or adding a day to it, can leave the range
of Python's ``datetime`` (years 1 to 9999) and raise ``OverflowError``. The
window below keeps a margin of a day at both ends, which covers every UTC
offset (at most 14 hours) plus one day added to an end date.
"""

import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import ValidationError

from lms.db import now_utc
from lms.i18n import format_date, format_local_datetime

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9999, 12, 30)
#: Largest value of a signed 32-bit INTEGER column (PostgreSQL ``integer``).
MAX_DB_INTEGER = 2**31 - 1

#: Earliest post start date accepted. A counselor who took up the post
#: before 1950 would be over 90 now, so an earlier year is a typing error.
EARLIEST_POST_START = date(1950, 1, 1)
#: How far after today a post start date may lie. HR may record an
#: appointment up to a year before it begins.
POST_START_MAX_AHEAD = timedelta(days=365)
#: How far after today a training class may start or end. A class is
#: planned at most a few academic years ahead, so a later date is taken as
#: a typing error in the year.
CLASS_MAX_AHEAD = timedelta(days=5 * 365)
#: How far after today a lesson session, quiz window or task due date may
#: lie. It is the horizon of a class, because such activities are planned
#: together with the classes they belong to.
SCHEDULE_MAX_AHEAD = CLASS_MAX_AHEAD
#: Earliest start or end date of a training taken elsewhere. Such a
#: training is credited as hours in its own year, and a year before 2000
#: is taken as a typing error (1990 for 2019, say), not as a real course.
EARLIEST_TRAINING = date(2000, 1, 1)


def in_date_range(value: date | datetime) -> bool:
    """Return whether a date or naive local datetime lies in MIN_DATE..MAX_DATE."""
    day = value.date() if isinstance(value, datetime) else value
    return MIN_DATE <= day <= MAX_DATE


def date_range_problem(value: date | datetime) -> str | None:
    """Return the message for a date or naive local datetime outside the window, else None.

    The message does not name the field, because WTForms templates put the
    field's label before each of its errors.
    """
    if in_date_range(value):
        return None
    if isinstance(value, datetime):
        return _(
            "%(value)s is out of range. Enter a date and time from %(min)s to %(max)s.",
            value=format_local_datetime(value),
            min=format_local_datetime(datetime.combine(MIN_DATE, time.min)),
            max=format_local_datetime(datetime.combine(MAX_DATE, time(23, 59))),
        )
    return _(
        "%(value)s is out of range. Enter a date from %(min)s to %(max)s.",
        value=format_date(value),
        min=format_date(MIN_DATE),
        max=format_date(MAX_DATE),
    )


def latest_post_start(today: date) -> date:
    """Return the latest post start date accepted on ``today`` (the institution's date)."""
    return today + POST_START_MAX_AHEAD


def post_start_problem(value: date, today: date) -> str | None:
    """Return the message for an implausible post start date, else None."""
    latest = latest_post_start(today)
    if EARLIEST_POST_START <= value <= latest:
        return None
    return _(
        "%(value)s is not a plausible post start date. Enter a date from "
        "%(min)s to %(max)s (one year after today).",
        value=format_date(value),
        min=format_date(EARLIEST_POST_START),
        max=format_date(latest),
    )


def training_date_problem(value: date, today: date) -> str | None:
    """Return the message for a training date before EARLIEST_TRAINING or after ``today``."""
    if EARLIEST_TRAINING <= value <= today:
        return None
    return _(
        "%(value)s is not a plausible training date. Enter a date from "
        "%(min)s to today (%(max)s).",
        value=format_date(value),
        min=format_date(EARLIEST_TRAINING),
        max=format_date(today),
    )


def class_date_problem(value: date, today: date, label: str) -> str | None:
    """Return the message for a class date of field ``label`` outside the plan window."""
    latest = today + CLASS_MAX_AHEAD
    if EARLIEST_TRAINING <= value <= latest:
        return None
    return _(
        "%(field)s: %(value)s is not a plausible class date. Enter a date from "
        "%(min)s to %(max)s (five years after today).",
        field=label,
        value=format_date(value),
        min=format_date(EARLIEST_TRAINING),
        max=format_date(latest),
    )


def scheduled_time_problem(value: datetime, today: date, label: str) -> str | None:
    """Return the message for a naive local datetime of field ``label`` outside the plan window.

    The window runs from EARLIEST_TRAINING to SCHEDULE_MAX_AHEAD after ``today``.
    """
    latest = today + SCHEDULE_MAX_AHEAD
    if EARLIEST_TRAINING <= value.date() <= latest:
        return None
    return _(
        "%(field)s: %(value)s is not a plausible date. Enter a date and time from "
        "%(min)s to %(max)s (five years after today).",
        field=label,
        value=format_local_datetime(value),
        min=format_local_datetime(datetime.combine(EARLIEST_TRAINING, time.min)),
        max=format_local_datetime(datetime.combine(latest, time(23, 59))),
    )


def scheduled_to_utc(
    local: datetime,
    zone: ZoneInfo,
    field: str,
    label: str,
    errors: dict,
    stored: datetime | None = None,
) -> datetime | None:
    """Return a planned local datetime in UTC, or None after noting why it is not plausible.

    A value equal to ``stored`` (the saved UTC value, to the minute) is kept
    even outside the window, so an older record can still be edited.
    """
    today = now_utc().astimezone(zone).date()
    if not in_date_range(local):
        # No stored value lies outside MIN_DATE..MAX_DATE, and the plan window
        # is narrower, so its message gives the range to enter.
        errors[field] = scheduled_time_problem(local, today, label)
        return None
    converted = local.replace(tzinfo=zone).astimezone(UTC)
    if stored is not None and stored.replace(second=0, microsecond=0) == converted:
        return converted
    problem = scheduled_time_problem(local, today, label)
    if problem:
        errors[field] = problem
        return None
    return converted


def typed_decimal(raw: str | None) -> Decimal | None:
    """Parse a number as typed in a form, or return None when it is not one.

    NFKC first turns the full-width digits, point and signs that a Chinese
    input method types in full-width mode (“８５．５”) into ASCII, because
    ``Decimal`` alone reads full-width digits but not the full-width point.
    The ideographic full stop “。” stays invalid. NaN and infinity parse,
    so callers check ``is_finite``.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def finite_decimal(valuelist, message: str) -> Decimal | None:
    """Parse a form field's typed decimal, or return None when it is empty.

    Raises ValueError with ``message`` for text, NaN and infinity, which
    WTForms' ``DecimalField`` would accept.
    """
    raw = valuelist[0] if valuelist else ""
    if not unicodedata.normalize("NFKC", raw).strip():
        return None
    value = typed_decimal(raw)
    if value is None or not value.is_finite():
        raise ValueError(message)
    return value


class IsoDateField(DateField):
    """WTForms ``DateField`` whose parse error gives the expected format.

    WTForms' own message ("Not a valid date value.") does not say what to
    type, which matters for a client without a date picker and for dates
    such as 2026-02-30 or 0000-00-00.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault(
            "invalid_value_message", _l("Enter a date as YYYY-MM-DD, e.g. 2026-09-01.")
        )
        super().__init__(label, validators, **kwargs)


class DateInRange:
    """WTForms validator that rejects a date or datetime outside MIN_DATE..MAX_DATE.

    A form whose field has a narrower plausible window replaces this message
    with the one that gives that window.
    """

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        problem = date_range_problem(field.data)
        if problem:
            raise ValidationError(problem)


class IdInRange:
    """WTForms validator for an id typed by the user: 0 up to MAX_DB_INTEGER."""

    def __call__(self, form, field) -> None:
        if field.data is None or 0 <= field.data <= MAX_DB_INTEGER:
            return
        raise ValidationError(
            _(
                "%(value)s is out of range. Enter a whole number from 0 to %(max)s.",
                value=field.data,
                max=MAX_DB_INTEGER,
            )
        )
