"""A programme's learners and their progress, for the institution's trainers.

Each enrolment counts the course versions it follows, as the learner's own
progress page does: its pinned version of a programme course, or the
programme's current version where it has no pin. A few queries serve the
whole list, whatever the number of learners.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from courses.models import (
    Course,
    CourseCompletion,
    Enrolment,
    Programme,
    ProgrammeCourse,
)
from courses.services import completion_hours_withdrawn, load_programme_courses
from lms.accounts.models import User
from lms.extensions import db


@dataclass
class LearnerRow:
    user: User
    enrolled_at: datetime
    required_done: int
    required_total: int
    courses_done: int
    courses_total: int
    #: 学时 the completed courses credited that still count in the ledger.
    hours_done: Decimal
    #: 学时 the completed courses credited that were withdrawn from the ledger,
    #: as when the programme's certificate was revoked with its hours.
    hours_withdrawn: Decimal
    completed_at: Optional[datetime]


def learner_rows(programme: Programme) -> list[LearnerRow]:
    """Return one row per enrolment in ``programme``, by learner name."""
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.programme_id == programme.id)
            .options(
                so.joinedload(Enrolment.user).joinedload(User.department),
                so.selectinload(Enrolment.pins),
            )
        )
    )
    links = load_programme_courses(programme)
    course_ids = {link.course_id for link in links}
    course_ids.update(pin.course_id for e in enrolments for pin in e.pins)
    courses = {
        course.id: course
        for course in db.session.scalars(sa.select(Course).where(Course.id.in_(course_ids)))
    }
    completions = _completions(enrolments, course_ids)

    rows = [_row(enrolment, links, courses, completions) for enrolment in enrolments]
    rows.sort(key=lambda row: (row.user.full_name, row.user.username))
    return rows


def _completions(enrolments: list[Enrolment], course_ids: set[int]) -> dict:
    """Map each (learner, course) completion to (hours withdrawn?, credited hours)."""
    return {
        (user_id, course_id): (bool(withdrawn), Decimal(hours))
        for user_id, course_id, withdrawn, hours in db.session.execute(
            sa.select(
                CourseCompletion.user_id,
                CourseCompletion.course_id,
                completion_hours_withdrawn(),
                CourseCompletion.hours,
            ).where(
                CourseCompletion.user_id.in_([e.user_id for e in enrolments]),
                CourseCompletion.course_id.in_(course_ids),
            )
        )
    }


def _row(
    enrolment: Enrolment,
    links: list[ProgrammeCourse],
    courses: dict[int, Course],
    completions: dict,
) -> LearnerRow:
    pins = {pin.programme_course_id: pin.course_id for pin in enrolment.pins}
    followed = [(link, pins.get(link.id, link.course_id)) for link in links]
    done = [
        (link, course_id)
        for link, course_id in followed
        if (enrolment.user_id, course_id) in completions
    ]
    withdrawn = {
        course_id
        for _link, course_id in done
        if completions[enrolment.user_id, course_id][0]
    }

    def hours(ids) -> Decimal:
        return sum(
            (completions[enrolment.user_id, course_id][1] for course_id in ids),
            Decimal(0),
        )

    return LearnerRow(
        user=enrolment.user,
        enrolled_at=enrolment.enrolled_at,
        required_done=sum(1 for link, _course_id in done if link.required),
        required_total=sum(1 for link in links if link.required),
        courses_done=len(done),
        courses_total=len(links),
        hours_done=hours(
            course_id for _link, course_id in done if course_id not in withdrawn
        ),
        hours_withdrawn=hours(withdrawn),
        completed_at=enrolment.completed_at,
    )
