"""Deadline reminders for offline sessions (面授) of lessons.

Registers the ``lesson_session_starts`` source with
``lms.notifications.deadlines``: every learner enrolled, and not yet done,
in a programme whose course has an offline lesson they have not completed
is reminded before the session starts.
"""

from datetime import datetime
from typing import Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.models import Enrolment, Lesson, LessonProgress, ProgrammeCourse
from lms.extensions import db
from lms.notifications.deadlines import Deadline, register_deadline_source

KIND = "lesson_session_starts"


def lesson_session_deadlines(start: datetime, end: datetime) -> Iterator[Deadline]:
    """Yield one deadline per learner still due at an offline session in (start, end]."""
    done = sa.exists().where(
        LessonProgress.lesson_id == Lesson.id,
        LessonProgress.user_id == Enrolment.user_id,
    )
    rows = db.session.execute(
        sa.select(Lesson, Enrolment.user_id)
        .join(ProgrammeCourse, ProgrammeCourse.course_id == Lesson.course_id)
        .join(Enrolment, Enrolment.programme_id == ProgrammeCourse.programme_id)
        .where(
            Lesson.session_starts_at > start,
            Lesson.session_starts_at <= end,
            Enrolment.completed_at.is_(None),
            ~done,
        )
        .distinct()
        .order_by(Lesson.id, Enrolment.user_id)
    ).all()
    for lesson, user_id in rows:
        yield Deadline(
            user_id=user_id,
            subject_type="lesson",
            subject_id=lesson.id,
            due_at=lesson.session_starts_at,
            args={"title": lesson.title, "place": lesson.session_place or "—"},
            link=f"/courses/{lesson.course_id}/lessons/{lesson.id}",
        )


def register() -> None:
    """Add the offline-session source to the deadline reminder registry."""
    register_deadline_source(
        KIND,
        lesson_session_deadlines,
        title=_l('Offline session "%(title)s" starts %(when)s'),
        body=_l(
            'The offline session "%(title)s" starts at %(due)s, place: %(place)s.'
        ),
        label=_l("Offline session reminders"),
    )
