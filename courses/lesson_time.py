"""Time a learner spends on a lesson before marking it complete.

A learner completes a text, video or file lesson by hand, and the course's
学时 follow. So the lesson must have been opened first, and a share of its
stated duration (``LESSON_MIN_TIME_SHARE``, 0.5 by default) must have passed
since the learner first opened it. The time is measured on the server from
the ``LessonView`` row that the lesson page writes. An offline lesson is
completed by an attendance mark and is not timed here.
"""

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from courses.models import Lesson, LessonView
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db


class LessonNotOpened(Exception):
    """The learner marked a lesson complete without ever opening it."""

    def __init__(self, lesson: Lesson):
        super().__init__(f"lesson {lesson.id} was never opened")
        self.lesson = lesson


class LessonTooEarly(Exception):
    """The learner marked a lesson complete before its minimum time had passed."""

    def __init__(self, lesson: Lesson, minimum: timedelta, remaining: timedelta):
        super().__init__(f"lesson {lesson.id}: {remaining} of {minimum} still to go")
        self.lesson = lesson
        self.minimum = minimum
        self.remaining = remaining

    @property
    def remaining_minutes(self) -> int:
        """The time still to go in whole minutes, rounded up."""
        return max(math.ceil(self.remaining.total_seconds() / 60), 1)


def minimum_time(lesson: Lesson) -> timedelta:
    """Return the time between first opening ``lesson`` and marking it complete."""
    share = Decimal(str(current_app.config.get("LESSON_MIN_TIME_SHARE", "0.5")))
    seconds = Decimal(lesson.duration_minutes or 0) * 60 * share
    return timedelta(seconds=int(seconds))


def first_viewed_at(user: User, lesson: Lesson) -> Optional[datetime]:
    return db.session.scalar(
        sa.select(LessonView.first_viewed_at).filter_by(user_id=user.id, lesson_id=lesson.id)
    )


def record_first_view(user: User, lesson: Lesson, seen: Optional[datetime]) -> bool:
    """Store when ``user`` first opened ``lesson``, unless it is stored already.

    ``seen`` is the result of ``first_viewed_at``, so a stored time is not
    looked up twice. Returns True when a row was added and the caller has
    to commit.
    """
    if seen is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(LessonView(user_id=user.id, lesson_id=lesson.id))
    except IntegrityError:
        # A second tab stored it first; its time is the one that counts.
        return False
    return True


def remaining_time(
    lesson: Lesson, seen: Optional[datetime], now: Optional[datetime] = None
) -> timedelta:
    """Return how long until a lesson first opened at ``seen`` may be marked complete.

    A lesson not yet opened (``seen`` is None) has its whole minimum ahead.
    """
    minimum = minimum_time(lesson)
    if seen is None:
        return minimum
    left = seen + minimum - (now or now_utc())
    return max(left, timedelta(0))


def ensure_time_spent(user: User, lesson: Lesson, now: Optional[datetime] = None) -> None:
    """Raise unless ``user`` opened ``lesson`` and its minimum time has passed."""
    seen = first_viewed_at(user, lesson)
    if seen is None:
        raise LessonNotOpened(lesson)
    left = remaining_time(lesson, seen, now)
    if left > timedelta(0):
        raise LessonTooEarly(lesson, minimum_time(lesson), left)
