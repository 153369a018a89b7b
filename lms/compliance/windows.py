"""Compliance windows as calendar dates in the institution's zone.

23:30 on 31 December in Asia/Shanghai (15:30 UTC) still belongs to that year,
so every window is computed from the local date, never from UTC.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Union
from zoneinfo import ZoneInfo

from lms.compliance.models import ComplianceRule, WindowKind
from lms.db import now_utc
from lms.organisations.models import Institution

DEFAULT_TIMEZONE = "Asia/Shanghai"

HALF_HOUR = Decimal("0.5")

#: A date, or an aware datetime that is converted to the institution's zone.
Today = Union[date, datetime, None]


@dataclass(frozen=True)
class Window:
    """The days whose ledger entries count toward a rule, and its deadline."""

    start: Optional[date]
    end: date
    deadline: Optional[date]
    #: Calendar-year windows: the year, matched against ``HoursEntry.year``.
    year: Optional[int] = None
    #: Rolling windows: the day ``at_risk_days`` ahead, and the first day that
    #: will still be inside the window then.
    horizon: Optional[date] = None
    horizon_start: Optional[date] = None
    #: The post start date that a ``before_post`` or ``around_post_start``
    #: window is counted from.
    post_started_on: Optional[date] = None


def add_months(day: date, months: int) -> date:
    """Shift ``day`` by whole months, clamping to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anniversary(day: date, months: int) -> date:
    """Return the day ``months`` months after ``day``.

    When that month lacks the day, as 29 February does in most years, the
    anniversary is the first day of the next month, so a period that starts
    on ``day`` still lasts until the last day of the shorter month.
    """
    shifted = add_months(day, months)
    if shifted.day < day.day:
        return shifted + timedelta(days=1)
    return shifted


def local_today(institution: Optional[Institution], today: Today = None) -> date:
    """Return the calendar date in the institution's zone.

    ``today`` may be a date (used as it is), an aware datetime (converted to
    the zone) or None for the current moment.
    """
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError(f"naive datetime {today!r}: pass an aware datetime")
        moment = today
    elif isinstance(today, date):
        return today
    else:
        moment = now_utc()
    zone = (institution.timezone if institution else None) or DEFAULT_TIMEZONE
    return moment.astimezone(ZoneInfo(zone)).date()


def _rolling_start(end: date, years: int) -> date:
    """First day of the ``years``-year window that ends on ``end``."""
    return add_months(end, -12 * years) + timedelta(days=1)


def window_for(
    rule: ComplianceRule,
    today: date,
    *,
    year: Optional[int] = None,
    post_started_on: Optional[date] = None,
) -> Window:
    """Compute the window of ``rule`` as seen on ``today``.

    ``year`` picks a calendar-year rule's year (default: today's year) and is
    ignored by the other window kinds. A ``before_post`` or
    ``around_post_start`` rule needs ``post_started_on``. For a rolling rule,
    a post that started on the window's first day or later gives a deadline:
    the day before the post's N-year anniversary, which is the last day of
    the first window that covers the whole time in post.
    """
    if rule.window_kind is WindowKind.CALENDAR_YEAR:
        if year is None:
            year = today.year
        return Window(
            start=date(year, 1, 1),
            end=date(year, 12, 31),
            deadline=date(year, 12, 31),
            year=year,
        )

    if rule.window_kind is WindowKind.ROLLING_YEARS:
        years = rule.window_years
        start = _rolling_start(today, years)
        horizon = today + timedelta(days=rule.at_risk_days)
        deadline = None
        if post_started_on is not None and post_started_on >= start:
            deadline = anniversary(post_started_on, 12 * years) - timedelta(days=1)
        return Window(
            start=start,
            end=today,
            deadline=deadline,
            horizon=horizon,
            horizon_start=_rolling_start(horizon, years),
        )

    if post_started_on is None:
        raise ValueError(
            f"rule {rule.code!r}: post_started_on is missing,"
            f" and a {rule.window_kind.value} window is counted from it"
        )
    start = add_months(post_started_on, -rule.window_months)
    if rule.window_kind is WindowKind.BEFORE_POST:
        end = post_started_on
    else:
        # The day before the anniversary closes the first new_to_post_months.
        end = anniversary(post_started_on, rule.new_to_post_months) - timedelta(days=1)
    return Window(
        start=start, end=end, deadline=end, post_started_on=post_started_on
    )


def split_hours_by_year(
    start_date: date, end_date: date, hours: Decimal
) -> list[tuple[int, Decimal]]:
    """Split a training's 学时 across the calendar years it spans.

    Each year gets a share proportional to its days (both ends inclusive),
    rounded half up to 0.5 学时. The last year takes the remainder, so the
    parts add up to ``hours`` exactly. Years whose share is zero are left
    out, except the last one.
    """
    hours = Decimal(hours)
    if end_date < start_date:
        raise ValueError(f"end_date {end_date} is before start_date {start_date}")
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")

    total_days = (end_date - start_date).days + 1
    parts: list[tuple[int, Decimal]] = []
    remaining = hours
    for year in range(start_date.year, end_date.year):
        days = (date(year, 12, 31) - max(start_date, date(year, 1, 1))).days + 1
        share = (hours * days / total_days / HALF_HOUR).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        ) * HALF_HOUR
        # Rounding up must not take more than is left when ``hours`` is not
        # a multiple of 0.5.
        share = min(share, remaining)
        remaining -= share
        if share:
            parts.append((year, share))
    parts.append((end_date.year, remaining))
    return parts
