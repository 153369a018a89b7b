"""The daily cap of 学时: a calendar day of training earns at most a full day's.

The conversion rule counts a full day of off-the-job training as
``CLASS_FULL_DAY_HOURS`` 学时 (8 by default). The cap covers trainings taken
elsewhere and attended class sessions together. Trainings whose dates
overlap share it over the days they cover together, from the first day of
any of them to the last, because the 学时 of a training of several days are
not recorded per day.

Where each side is enforced:

* A training taken elsewhere is checked when it is submitted or entered
  (``lms.records.external_views``), against the person's pending and
  approved trainings and the class sessions already credited on its dates.
* A class session credits only the room that the person's approved
  trainings and other credited sessions leave on its date
  (``room_for_class_session``). Approving or withdrawing a training sends
  ``outside_hours_changed``, so the class package credits the sessions on
  its dates again.

Class sessions are read from the attendance tables of the courses package
by name, because the records package sits below it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext

from lms import signals
from lms.extensions import db
from lms.i18n import plural_count
from lms.records.models import ExternalTraining, ExternalTrainingStatus


def max_hours_per_day() -> Decimal:
    """Return the most 学时 one calendar day of training earns: a full day's.

    The conversion rule counts full-day off-the-job training as 8 学时
    (``CLASS_FULL_DAY_HOURS``), so a training day cannot credit more.
    """
    return Decimal(str(current_app.config["CLASS_FULL_DAY_HOURS"]))


def cap_hours_text(hours: Decimal) -> str:
    """Return a cap of ``hours`` as "1 hour" or "8 hours" in the reader's language."""
    return ngettext(
        "%(max)s hour", "%(max)s hours", plural_count(hours), max=format(hours, "f")
    )


#: Tables of the courses package, named here because the records package
#: sits below it and does not import it.
_attendance = sa.table(
    "class_attendance",
    sa.column("session_id"),
    sa.column("user_id"),
    sa.column("status"),
    sa.column("credited_hours", sa.Numeric(5, 1)),
)
_session = sa.table(
    "class_session",
    sa.column("id"),
    sa.column("class_id"),
    sa.column("title"),
    sa.column("held_on", sa.Date),
    sa.column("lesson_id"),
)
_class = sa.table("training_class", sa.column("id"), sa.column("title"))

#: Attendance statuses that earn 学时 (``AttendanceStatus.earns_hours``).
_EARNING_STATUSES = ("present", "late")


@dataclass(frozen=True)
class ClassCredit:
    """An attended class session and the 学时 it credits a person."""

    session_id: int
    held_on: date
    #: The class and session titles, as the session's ledger row shows them.
    title: str
    hours: Decimal


def class_credits(
    user_id: int,
    start: date,
    end: date,
    *,
    besides_session: Optional[int] = None,
    uncredited: bool = False,
) -> list[ClassCredit]:
    """Return the person's attended class sessions from ``start`` to ``end`` that credit 学时.

    A mark's credited 学时 equal the net of its session's ledger rows.
    Sessions that credit nothing are left out unless ``uncredited`` is set,
    and ``besides_session`` is always left out. Sessions that deliver an
    offline lesson earn no 学时 of their own, so they never count.
    """
    query = (
        sa.select(
            _session.c.id,
            _session.c.held_on,
            _class.c.title,
            _session.c.title,
            _attendance.c.credited_hours,
        )
        .select_from(_attendance)
        .join(_session, _session.c.id == _attendance.c.session_id)
        .join(_class, _class.c.id == _session.c.class_id)
        .where(
            _attendance.c.user_id == user_id,
            _attendance.c.status.in_(_EARNING_STATUSES),
            _session.c.lesson_id.is_(None),
            _session.c.held_on >= start,
            _session.c.held_on <= end,
        )
        .order_by(_session.c.held_on, _session.c.id)
    )
    if besides_session is not None:
        query = query.where(_session.c.id != besides_session)
    if not uncredited:
        query = query.where(_attendance.c.credited_hours > 0)
    return [
        ClassCredit(session_id, held_on, f"{class_title}：{title}", Decimal(hours))
        for session_id, held_on, class_title, title, hours in db.session.execute(query)
    ]


def trainings_on_dates(
    user_id: int, start: date, end: date, statuses: Iterable[ExternalTrainingStatus]
) -> list[ExternalTraining]:
    """Return the person's trainings in ``statuses`` whose dates overlap ``start``..``end``."""
    return list(
        db.session.scalars(
            sa.select(ExternalTraining)
            .where(
                ExternalTraining.user_id == user_id,
                ExternalTraining.status.in_(list(statuses)),
                ExternalTraining.start_date <= end,
                ExternalTraining.end_date >= start,
            )
            .order_by(ExternalTraining.start_date, ExternalTraining.id)
        )
    )


@dataclass(frozen=True)
class SharedDays:
    """Trainings and class sessions that share dates, and the cap over their days."""

    first: date
    last: date
    trainings: list[ExternalTraining]
    sessions: list[ClassCredit]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def max_hours(self) -> Decimal:
        return max_hours_per_day() * self.days

    @property
    def hours(self) -> Decimal:
        """The 学时 the trainings and sessions credit together."""
        trainings = sum((training.hours for training in self.trainings), Decimal(0))
        return trainings + sum((session.hours for session in self.sessions), Decimal(0))


def shared_days(
    user_id: int,
    start: date,
    end: date,
    statuses: Iterable[ExternalTrainingStatus],
    *,
    besides_session: Optional[int] = None,
    uncredited: bool = False,
) -> SharedDays:
    """Collect what shares the daily cap with a training from ``start`` to ``end``.

    That is the person's trainings in ``statuses`` whose dates overlap it,
    and the class sessions credited from the first to the last day of any
    of them, except ``besides_session``. ``uncredited`` also keeps the
    sessions that credit nothing.
    """
    trainings = trainings_on_dates(user_id, start, end, statuses)
    first = min([start] + [training.start_date for training in trainings])
    last = max([end] + [training.end_date for training in trainings])
    sessions = class_credits(
        user_id, first, last, besides_session=besides_session, uncredited=uncredited
    )
    return SharedDays(first, last, trainings, sessions)


def room_for_class_session(user_id: int, session_id: int, held_on: date) -> Decimal:
    """Return the 学时 a class session on ``held_on`` may credit under the daily cap.

    The person's approved trainings on that date and the other sessions
    credited on their days come first, whatever order they were recorded in.
    """
    shared = shared_days(
        user_id,
        held_on,
        held_on,
        [ExternalTrainingStatus.APPROVED],
        besides_session=session_id,
    )
    return max(Decimal(0), shared.max_hours - shared.hours)


def capped_days(user_id: int) -> list[SharedDays]:
    """Return the approved trainings and class sessions that reach the cap together.

    Each group starts from one approved training and keeps the sessions that
    share its days, including those the cap left without 学时, so that the
    ledger can explain why they credit less than they earn.
    """
    approved = [ExternalTrainingStatus.APPROVED]
    # Two queries for the whole record: the groups are those ``shared_days``
    # returns for each training, formed here from all rows at once.
    trainings = trainings_on_dates(user_id, date.min, date.max, approved)
    if not trainings:
        return []
    sessions = class_credits(user_id, date.min, date.max, uncredited=True)
    groups: dict[tuple[date, date], SharedDays] = {}
    for training in trainings:
        overlapping = [
            other
            for other in trainings
            if other.start_date <= training.end_date and other.end_date >= training.start_date
        ]
        first = min(other.start_date for other in overlapping)
        last = max(other.end_date for other in overlapping)
        shared = SharedDays(
            first,
            last,
            overlapping,
            [session for session in sessions if first <= session.held_on <= last],
        )
        if shared.sessions and shared.hours >= shared.max_hours:
            groups.setdefault((shared.first, shared.last), shared)
    return list(groups.values())


def announce_hours_changed(training: ExternalTraining) -> None:
    """Tell the class package to credit the sessions on the training's dates again.

    Sent when a training is approved or withdrawn, because the sessions on
    its dates then have less or more room under the cap.
    """
    signals.outside_hours_changed.send(
        None,
        user_id=training.user_id,
        start_date=training.start_date,
        end_date=training.end_date,
    )


def announce_approved_trainings() -> int:
    """Announce every approved training as changed; return how many there are.

    The class package then credits the sessions on their dates under the
    cap, which brings data recorded before the cap covered class sessions
    in line. Flush only.
    """
    trainings = db.session.scalars(
        sa.select(ExternalTraining)
        .where(ExternalTraining.status == ExternalTrainingStatus.APPROVED)
        .order_by(ExternalTraining.user_id, ExternalTraining.start_date)
    ).all()
    for training in trainings:
        announce_hours_changed(training)
    return len(trainings)
