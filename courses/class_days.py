"""The limit of one full day of class 学时 per person, class and date.

A class may schedule on one date sessions that earn 学时 of at most one full
day: one full-day session or two half-day sessions. Sessions that deliver an
offline lesson earn no 学时 of their own, so they do not count towards the
limit. Attendance credits a person at most the class's full-day hours for one
date, which also caps dates that hold more sessions than the limit allows
because they were scheduled before it was checked.

Attendance also shares the daily cap of ``lms.records.day_cap`` with the
person's approved trainings taken elsewhere and their sessions of other
classes: a date credits at most a full day's 学时 from all of them together.
"""

from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from courses.class_models import Attendance, ClassSession, SessionLength, TrainingClass
from courses.classes import hours_for
from lms import labels
from lms.extensions import db
from lms.i18n import format_date, join_names
from lms.records import day_cap

#: Length of a session in half days.
HALF_DAYS = {SessionLength.HALF_DAY: 1, SessionLength.FULL_DAY: 2}


def sessions_earning_on(
    training_class: TrainingClass, day: date, *, besides: Optional[ClassSession] = None
) -> list[ClassSession]:
    """Return the sessions of the class on ``day`` that earn 学时, except ``besides``."""
    query = (
        sa.select(ClassSession)
        .where(
            ClassSession.class_id == training_class.id,
            ClassSession.held_on == day,
            ClassSession.lesson_id.is_(None),
        )
        .order_by(ClassSession.id)
    )
    if besides is not None:
        query = query.where(ClassSession.id != besides.id)
    return list(db.session.scalars(query))


def day_limit_problem(
    training_class: TrainingClass, values: dict, session: Optional[ClassSession] = None
) -> Optional[str]:
    """Return why validated session ``values`` break the daily limit, or None.

    ``session`` is the session being edited, which does not count against
    its own new values.
    """
    day, length = values.get("held_on"), values.get("length")
    if day is None or length is None or values.get("lesson_id") is not None:
        return None
    others = sessions_earning_on(training_class, day, besides=session)
    half_days_used = sum(HALF_DAYS[other.length] for other in others)
    if half_days_used + HALF_DAYS[length] <= HALF_DAYS[SessionLength.FULL_DAY]:
        return None
    listed = join_names(
        _(
            "%(title)s (%(length)s)",
            title=other.title,
            length=labels.label(other.length),
        )
        for other in others
    )
    if half_days_used == HALF_DAYS[SessionLength.HALF_DAY]:
        return _(
            "%(day)s already has %(sessions)s in this class, and one date holds "
            "at most a full day of sessions that earn hours. Choose another date, or "
            "make this session a half day.",
            day=format_date(day, "long"),
            sessions=listed,
        )
    return _(
        "%(day)s already has %(sessions)s in this class, and one date holds "
        "at most a full day of sessions that earn hours. Choose another date.",
        day=format_date(day, "long"),
        sessions=listed,
    )


def day_allowance(attendance: Attendance) -> Decimal:
    """Return the 学时 the mark may credit before the person's date exceeds a full day.

    The person's other marks at sessions of the same class on the same date
    count with what they have credited so far, within the class's full day.
    Then the daily cap over all trainings applies: the person's approved
    trainings taken elsewhere and sessions of any class on the date (or on
    the days of those trainings) leave what ``day_cap.room_for_class_session``
    returns.
    """
    session = attendance.session
    credited_elsewhere = db.session.scalar(
        sa.select(sa.func.sum(Attendance.credited_hours))
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(
            ClassSession.class_id == session.class_id,
            ClassSession.held_on == session.held_on,
            Attendance.user_id == attendance.user_id,
            Attendance.id != attendance.id,
        )
    )
    full_day = hours_for(session.training_class, SessionLength.FULL_DAY)
    in_class = max(Decimal(0), full_day - Decimal(credited_elsewhere or 0))
    shared = day_cap.room_for_class_session(
        attendance.user_id, session.id, session.held_on
    )
    return min(in_class, shared)


def marks_on_same_day(attendance: Attendance) -> list[Attendance]:
    """Return the person's other marks at sessions of any class on the same date.

    Sessions of other classes count because the daily cap covers them too.
    """
    session = attendance.session
    return marks_between(
        attendance.user_id, session.held_on, session.held_on, besides=attendance
    )


def marks_between(
    user_id: int, first: date, last: date, *, besides: Optional[Attendance] = None
) -> list[Attendance]:
    """Return the person's marks at sessions of any class held from ``first`` to ``last``."""
    query = (
        sa.select(Attendance)
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(
            ClassSession.held_on >= first,
            ClassSession.held_on <= last,
            Attendance.user_id == user_id,
        )
        .order_by(ClassSession.held_on, ClassSession.id)
    )
    if besides is not None:
        query = query.where(Attendance.id != besides.id)
    return list(db.session.scalars(query))
