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

from courses.models import Course, CourseCompletion, Enrolment, Programme
from courses.services import load_programme_courses
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
    #: Credit hours of the completed courses.
    hours_done: Decimal
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
    done_pairs = set(
        db.session.execute(
            sa.select(CourseCompletion.user_id, CourseCompletion.course_id).where(
                CourseCompletion.user_id.in_([e.user_id for e in enrolments]),
                CourseCompletion.course_id.in_(course_ids),
            )
        ).all()
    )
    rows = []
    for enrolment in enrolments:
        pins = {pin.programme_course_id: pin.course_id for pin in enrolment.pins}
        followed = [(link, pins.get(link.id, link.course_id)) for link in links]
        done = [
            (link, course_id)
            for link, course_id in followed
            if (enrolment.user_id, course_id) in done_pairs
        ]
        rows.append(
            LearnerRow(
                user=enrolment.user,
                enrolled_at=enrolment.enrolled_at,
                required_done=sum(1 for link, _course_id in done if link.required),
                required_total=sum(1 for link in links if link.required),
                courses_done=len(done),
                courses_total=len(links),
                hours_done=sum(
                    (courses[course_id].credit_hours for _link, course_id in done),
                    Decimal(0),
                ),
                completed_at=enrolment.completed_at,
            )
        )
    rows.sort(key=lambda row: (row.user.full_name, row.user.username))
    return rows
