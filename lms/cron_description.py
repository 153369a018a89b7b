"""Job schedules in words, in the reader's language, for the admin jobs page.

The words come from the fields of the APScheduler 3.x ``CronTrigger`` that
the scheduler builds, so they follow APScheduler's reading of a crontab. In
particular a numeric weekday 0 is Monday there, and ``0 3 * * 1`` is
described (and run) on Tuesdays.
"""

from dataclasses import dataclass
from datetime import date
from typing import Optional, Union

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.cron.expressions import AllExpression, RangeExpression
from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.scheduler import JobConfigError, make_trigger

#: Sentences of a weekly schedule, by APScheduler weekday number (0 is Monday).
WEEKLY = (
    _l("Every Monday at %(time)s"),
    _l("Every Tuesday at %(time)s"),
    _l("Every Wednesday at %(time)s"),
    _l("Every Thursday at %(time)s"),
    _l("Every Friday at %(time)s"),
    _l("Every Saturday at %(time)s"),
    _l("Every Sunday at %(time)s"),
)

ANY = "any"

#: Field values that every described pattern shares, because the words
#: mention neither the year, the ISO week nor the second.
_FIXED = {"year": ANY, "week": ANY, "second": 0}


@dataclass(frozen=True)
class Step:
    """A field written ``*/size``: every ``size``-th value."""

    size: int


def _field_value(field) -> Union[str, int, Step, tuple[int, int], None]:
    """Classify one trigger field: ANY, a number, a Step, a (first, last) range, or None.

    A field with several expressions, a stepped range or a special
    expression (``last``, ``2nd mon``) gives None, which no pattern matches.
    """
    if len(field.expressions) != 1:
        return None
    expression = field.expressions[0]
    if type(expression) is AllExpression:
        if expression.step in (None, 1):
            return ANY
        return Step(expression.step)
    if isinstance(expression, RangeExpression) and expression.step is None:
        if expression.first == expression.last:
            return expression.first
        return (expression.first, expression.last)
    return None


def _time(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def describe_trigger(trigger: CronTrigger) -> Optional[str]:
    """Describe ``trigger`` in the current locale, or return None for other patterns.

    The described patterns are every minute, every n minutes (n a divisor
    of 60) and every hour at a minute. At a time of day, they are every day,
    one weekday, Monday to Friday, one day of every month, and one date of
    every year.
    """
    if trigger.start_date or trigger.end_date or trigger.jitter:
        return None
    values = {field.name: _field_value(field) for field in trigger.fields}
    if any(values[name] != value for name, value in _FIXED.items()):
        return None
    minute, hour = values["minute"], values["hour"]
    day, month, weekday = values["day"], values["month"], values["day_of_week"]
    every_day = day == ANY and month == ANY and weekday == ANY

    if every_day and hour == ANY:
        if minute == ANY:
            return _("Every minute")
        # A step that does not divide 60 restarts at minute 0 every hour,
        # so the gaps are not all equal.
        if isinstance(minute, Step) and 60 % minute.size == 0:
            return _("Every %(count)s minutes", count=minute.size)
        if isinstance(minute, int):
            return _("Every hour at minute %(minute)s", minute=minute)
        return None

    if not (isinstance(minute, int) and isinstance(hour, int)):
        return None
    time = _time(hour, minute)
    if every_day:
        return _("Every day at %(time)s", time=time)
    if day == ANY and month == ANY:
        if isinstance(weekday, int):
            return WEEKLY[weekday] % {"time": time}
        if weekday == (0, 4):
            return _("Monday to Friday at %(time)s", time=time)
        return None
    if weekday != ANY or not isinstance(day, int):
        return None
    if month == ANY:
        return _("On day %(day)s of every month at %(time)s", day=day, time=time)
    if not isinstance(month, int):
        return None
    try:
        # A leap year, so that 29 February is a valid date.
        yearly_date = date(2000, month, day)
    except ValueError:
        return None
    date_text = format_skeleton("MMMMd", yearly_date, locale=get_locale())
    return _("Every year on %(date)s at %(time)s", date=date_text, time=time)


def describe_cron(cron: Union[str, dict]) -> Optional[str]:
    """Describe a job's ``cron`` setting in words, or return None.

    None means the schedule is invalid or has no wording here, and the
    caller shows the cron expression itself. The time zone does not change
    the words, so the trigger is built in UTC.
    """
    try:
        trigger = make_trigger("", cron, "UTC")
    except JobConfigError:
        return None
    return describe_trigger(trigger)
