"""Compliance windows as calendar dates in the institution's zone.

23:30 on 31 December in Asia/Shanghai (15:30 UTC) still belongs to that year,
so every window is computed from the local date, never from UTC.
"""

import calendar
from dataclasses import dataclass, replace
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
    #: The profile date that a ``probation`` or ``first_member_year`` window
    #: starts on, or that a ``rolling_years_after_rank`` deadline is counted
    #: from: the probation start, the full-member date or the rank date.
    counted_from: Optional[date] = None
    #: Probation windows: whether the probation has lasted over a year with
    #: no full-member date, so it counts as extended.
    probation_extended: bool = False


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


#: Length of a probation (预备期) in months, and the longest extension.
PROBATION_MONTHS = 12


def probation_window(
    started_on: date, full_member_on: Optional[date], today: date
) -> Window:
    """Compute the probation that began on ``started_on``, as seen on ``today``.

    The probation ends the day before ``full_member_on``. Without that date
    it ends the day before its first anniversary, and once that day has
    passed, the day before its second anniversary, because a probation is
    extended by at most one year.
    """
    extended = False
    if full_member_on is not None:
        end = full_member_on - timedelta(days=1)
    else:
        end = anniversary(started_on, PROBATION_MONTHS) - timedelta(days=1)
        if today > end:
            extended = True
            end = anniversary(started_on, 2 * PROBATION_MONTHS) - timedelta(days=1)
    return Window(
        start=started_on,
        end=end,
        deadline=end,
        counted_from=started_on,
        probation_extended=extended,
    )


def first_member_year(full_member_on: date) -> Window:
    """Compute the first year as a full Party member, from ``full_member_on``."""
    end = anniversary(full_member_on, 12) - timedelta(days=1)
    return Window(start=full_member_on, end=end, deadline=end, counted_from=full_member_on)


def _rolling_window(
    rule: ComplianceRule, today: date, anchor: Optional[date], anchor_months: int
) -> Window:
    """Compute the last ``window_years`` years to ``today``, due ``anchor_months`` after ``anchor``.

    An ``anchor`` before the window's first day gives no deadline.
    """
    years = rule.window_years
    start = _rolling_start(today, years)
    horizon = today + timedelta(days=rule.at_risk_days)
    deadline = None
    if anchor is not None and anchor >= start:
        deadline = anniversary(anchor, anchor_months) - timedelta(days=1)
    return Window(
        start=start,
        end=today,
        deadline=deadline,
        horizon=horizon,
        horizon_start=_rolling_start(horizon, years),
    )


def window_for(
    rule: ComplianceRule,
    today: date,
    *,
    year: Optional[int] = None,
    post_started_on: Optional[date] = None,
    probation_started_on: Optional[date] = None,
    full_member_on: Optional[date] = None,
    rank_since: Optional[date] = None,
) -> Window:
    """Compute the window of ``rule`` as seen on ``today``.

    ``year`` picks a calendar-year rule's year (default: today's year) and is
    ignored by the other window kinds. A ``before_post`` or
    ``around_post_start`` rule needs ``post_started_on``, a ``probation``
    rule ``probation_started_on`` (and ``full_member_on`` once recorded),
    and a ``first_member_year`` rule ``full_member_on``.

    For a rolling rule, a post that started on the window's first day or
    later gives a deadline: the day before the post's N-year anniversary,
    which is the last day of the first window that covers the whole time in
    post. A ``rolling_years_after_rank`` rule takes its deadline the same
    way from ``rank_since``, ``window_months`` after the rank date.
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
        return _rolling_window(rule, today, post_started_on, 12 * rule.window_years)

    if rule.window_kind is WindowKind.ROLLING_YEARS_AFTER_RANK:
        window = _rolling_window(rule, today, rank_since, rule.window_months)
        return replace(window, counted_from=rank_since)

    if rule.window_kind is WindowKind.PROBATION:
        if probation_started_on is None:
            raise ValueError(
                f"rule {rule.code!r}: probation_started_on is missing,"
                " and a probation window is counted from it"
            )
        return probation_window(probation_started_on, full_member_on, today)

    if rule.window_kind is WindowKind.FIRST_MEMBER_YEAR:
        if full_member_on is None:
            raise ValueError(
                f"rule {rule.code!r}: full_member_on is missing,"
                " and a first_member_year window is counted from it"
            )
        return first_member_year(full_member_on)

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


def days_in_year(start_date: date, end_date: date, year: int) -> int:
    """Return how many days of ``start_date`` to ``end_date`` fall in ``year``."""
    first = max(start_date, date(year, 1, 1))
    last = min(end_date, date(year, 12, 31))
    return max((last - first).days + 1, 0)


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
