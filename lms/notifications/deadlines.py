"""Deadline reminders: a registry of deadline sources and the job that reads them.

A package that owns something with a deadline (an offline class that starts,
a quiz that closes, an assignment that is due) registers a source once, at
app start, and the ``deadline_reminders`` job does the rest::

    from flask_babel import lazy_gettext as _l
    from lms.notifications.deadlines import Deadline, register_deadline_source

    def quiz_deadlines(start, end):
        # Yield one Deadline per person who still has to act, for every
        # deadline with start < due_at <= end (aware UTC datetimes).
        for quiz, user_id in ...:
            yield Deadline(
                user_id=user_id,
                subject_type="quiz",
                subject_id=quiz.id,
                due_at=quiz.closes_at,
                args={"title": quiz.title},
                link=f"/quizzes/{quiz.id}",
            )

    register_deadline_source(
        "quiz_closes",
        quiz_deadlines,
        title=_l('Quiz "%(title)s" closes %(when)s'),
        body=_l('The quiz "%(title)s" closes at %(due)s. Submit your attempt before then.'),
        label=_l("Quiz closing reminders"),
    )

Title and body are lazy strings, rendered in every configured language with
the deadline's ``args`` (a date in that language's format) plus ``when``
("today", "tomorrow", "in 3 days") and ``due`` (the due time in the
recipient's institution zone), so the inbox shows the reader's current
language. The kind is also
the e-mail preference users can turn off, shown under ``label`` on the
notification settings page.

The job fetches from each source the deadlines of the next
``max(offsets) + 2`` days and sends a reminder when the number of days left, counted between local
dates in the recipient's institution zone, reaches an offset of
``LMS_DEADLINE_REMINDER_DAYS`` (default ``3,1``). A reminder missed because
the job did not run is sent on the next run, with the real number of days
left. Each reminder has the outbox key (recipient, kind, subject, offset), so
a rerun or a second scheduler sends it once.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date, format_datetime
from flask_babel import get_locale, gettext, ngettext

from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import date_pattern, datetime_pattern
from lms.notifications import services, setting
from lms.notifications.models import Notification
from lms.notifications.tasks import local_date
from lms.stored_text import in_each_language

logger = logging.getLogger("lms.notifications")


@dataclass(frozen=True)
class Deadline:
    """One person's deadline, as a source yields it."""

    user_id: int
    subject_type: str
    subject_id: int
    #: Aware datetime at which the deadline falls.
    due_at: datetime
    #: Values for the placeholders of the source's title and body. A date is
    #: formatted in each reader's language.
    args: dict = field(default_factory=dict)
    #: Path inside the app that the reminder points to.
    link: Optional[str] = None


DeadlineFetcher = Callable[[datetime, datetime], Iterable[Deadline]]


@dataclass(frozen=True)
class DeadlineSource:
    """A registered source: its notification kind, fetch function and texts."""

    kind: str
    fetch: DeadlineFetcher
    title: object
    body: object
    #: Name of the reminders on the notification settings page.
    label: object = None


_sources: dict[str, DeadlineSource] = {}


def register_deadline_source(
    kind: str, fetch: DeadlineFetcher, *, title, body, label=None
) -> DeadlineSource:
    """Register (or replace) the source of deadline reminders of ``kind``."""
    if not kind or len(kind) > 64:
        raise ValueError(f"deadline kind {kind!r} must have 1 to 64 characters")
    source = DeadlineSource(
        kind=kind, fetch=fetch, title=title, body=body, label=label or kind
    )
    _sources[kind] = source
    return source


def unregister_deadline_source(kind: str) -> None:
    """Remove the source of ``kind`` if one is registered."""
    _sources.pop(kind, None)


def registered_sources() -> list[DeadlineSource]:
    """Return the registered sources, ordered by kind."""
    return [_sources[kind] for kind in sorted(_sources)]


def reminder_offsets() -> tuple[int, ...]:
    """Return the configured days-before offsets, largest first."""
    raw = setting("LMS_DEADLINE_REMINDER_DAYS")
    values = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    try:
        offsets = {int(str(value).strip()) for value in values if str(value).strip()}
    except ValueError:
        raise ValueError(
            f"LMS_DEADLINE_REMINDER_DAYS={raw!r} is invalid: "
            "expected whole numbers of days separated by commas, e.g. 3,1"
        ) from None
    if not offsets or min(offsets) < 0:
        raise ValueError(
            f"LMS_DEADLINE_REMINDER_DAYS={raw!r} is invalid: "
            "give at least one number of days, none negative"
        )
    return tuple(sorted(offsets, reverse=True))


def reminder_offset(days_left: int, offsets: tuple[int, ...]) -> Optional[int]:
    """Return the offset whose reminder is due with ``days_left`` days to go, or None.

    That is the smallest offset not below ``days_left``: with offsets 3 and 1,
    days 3 and 2 give 3, and days 1 and 0 give 1.
    """
    if days_left < 0:
        return None
    candidates = [offset for offset in offsets if offset >= days_left]
    return min(candidates) if candidates else None


def deadline_reminders(now: Optional[datetime] = None) -> dict:
    """Queue the reminders that are due for every registered deadline source."""
    now = now or now_utc()
    offsets = reminder_offsets()
    horizon = now + timedelta(days=max(offsets) + 2)
    counts = {"checked": 0, "queued": 0}
    failed = []
    for source in registered_sources():
        # A savepoint per source, so one broken source does not stop the others.
        try:
            with db.session.begin_nested():
                checked, queued = _remind_all(source, now, horizon, offsets)
        except Exception:
            logger.exception("deadline source %s failed; its reminders are skipped", source.kind)
            failed.append(source.kind)
            continue
        counts["checked"] += checked
        counts["queued"] += queued
    if failed:
        counts["failed_sources"] = failed
    return counts


def _remind_all(source: DeadlineSource, now, horizon, offsets) -> tuple[int, int]:
    checked = queued = 0
    for deadline in source.fetch(now, horizon):
        checked += 1
        if _remind(source, deadline, now, offsets):
            queued += 1
    return checked, queued


def _remind(source: DeadlineSource, deadline: Deadline, now: datetime, offsets) -> bool:
    if deadline.due_at <= now:
        return False
    user = db.session.get(User, deadline.user_id)
    if user is None or not user.active:
        return False
    days_left = (local_date(user, deadline.due_at) - local_date(user, now)).days
    offset = reminder_offset(days_left, offsets)
    if offset is None:
        return False
    suffix = f"{offset}d"
    key = services.dedupe_key(
        user.id, source.kind, deadline.subject_type, deadline.subject_id, suffix
    )
    if db.session.scalar(sa.select(Notification.id).where(Notification.dedupe_key == key)):
        return False
    title, body = _render(source, deadline, user, days_left)
    services.enqueue(
        user,
        source.kind,
        deadline.subject_type,
        deadline.subject_id,
        title,
        body,
        link=deadline.link,
        now=now,
        key_suffix=suffix,
    )
    return True


def _render(source: DeadlineSource, deadline: Deadline, user: User, days_left: int):
    """Return the reminder's title and body as stored text in every language.

    A source registers its texts as lazy strings, which expose no message id,
    so each configured language gets its rendering when the reminder is made.
    """
    zone = ZoneInfo(_zone_name(user))

    def values() -> dict:
        locale = get_locale()
        if days_left == 0:
            when = gettext("today")
        elif days_left == 1:
            when = gettext("tomorrow")
        else:
            when = ngettext("in %(num)d day", "in %(num)d days", days_left)
        values = {
            name: _format_arg(value, locale) for name, value in deadline.args.items()
        }
        values["when"] = when
        values["due"] = format_datetime(
            deadline.due_at, format=datetime_pattern("medium", locale), tzinfo=zone, locale=locale
        )
        return values

    title = in_each_language(lambda: str(source.title) % values())
    body = in_each_language(lambda: str(source.body) % values())
    return title, body


def _format_arg(value, locale):
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, date_pattern("medium", locale), locale=locale)
    return value


def _zone_name(user: User) -> str:
    try:
        ZoneInfo(user.institution.timezone)
    except (ValueError, LookupError):
        return "Asia/Shanghai"
    return user.institution.timezone
