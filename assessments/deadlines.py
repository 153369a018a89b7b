"""Deadline reminders for quizzes that close and performance tasks that fall due.

Registers the ``quiz_closes`` and ``task_due`` sources with ``lms.notifications.deadlines``.
The learners of a quiz's course are those with an open programme enrolment
that follows that course version, and the members of a class that offers
the course alone. Each of them is reminded before the quiz closes, unless
they already passed it or have no attempt left.
"""

from datetime import datetime
from typing import Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from assessments import services
from assessments.models import Quiz
from courses import classes
from courses import services as course_services
from courses.models import Course, PublicationStatus
from lms.accounts.models import User
from lms.extensions import db
from lms.notifications.deadlines import Deadline, register_deadline_source

KIND = "quiz_closes"


def _closing_quizzes(start: datetime, end: datetime) -> list[Quiz]:
    return list(
        db.session.scalars(
            sa.select(Quiz)
            .join(Course, Course.id == Quiz.course_id)
            .where(
                Quiz.closes_at > start,
                Quiz.closes_at <= end,
                Course.status != PublicationStatus.DRAFT,
            )
            .order_by(Quiz.closes_at, Quiz.id)
        )
    )


def _still_due(user: User, quiz: Quiz) -> bool:
    """Return whether ``user`` can still act on ``quiz``: not passed, an attempt left."""
    if not user.role.is_learner or services.has_passed(user, quiz):
        return False
    if services.open_attempt(user, quiz) is not None:
        return True
    left = services.attempts_left(user, quiz)
    return left is None or left > 0


def quiz_deadlines(start: datetime, end: datetime) -> Iterator[Deadline]:
    """Yield one deadline per learner still due at a quiz closing in (start, end]."""
    quizzes = _closing_quizzes(start, end)
    course_ids = sorted({quiz.course_id for quiz in quizzes})
    learners = course_services.open_enrolment_learners(course_ids)
    learners |= classes.course_class_learners(course_ids)
    for quiz in quizzes:
        user_ids = sorted(user_id for course_id, user_id in learners if course_id == quiz.course_id)
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            if user is None or not _still_due(user, quiz):
                continue
            yield Deadline(
                user_id=user_id,
                subject_type="quiz",
                subject_id=quiz.id,
                due_at=quiz.closes_at,
                args={"title": quiz.title},
                link=f"/quizzes/{quiz.id}",
            )


def register() -> None:
    """Add the quiz closing source to the deadline reminder registry."""
    register_deadline_source(
        KIND,
        quiz_deadlines,
        title=_l('Quiz "%(title)s" closes %(when)s'),
        body=_l(
            'The quiz "%(title)s" closes at %(due)s. Pass it before then, '
            "because no attempt can start after it closes."
        ),
        label=_l("Quiz closing reminders"),
    )
    register_tasks()


TASK_KIND = "task_due"


def task_deadlines(start: datetime, end: datetime) -> Iterator[Deadline]:
    """Yield one deadline per learner of a task due in (start, end] who has not submitted."""
    from assessments.tasks import submissions_of
    from assessments.tasks_models import PerformanceTask

    tasks = list(
        db.session.scalars(
            sa.select(PerformanceTask)
            .where(
                PerformanceTask.published.is_(True),
                PerformanceTask.due_at > start,
                PerformanceTask.due_at <= end,
            )
            .order_by(PerformanceTask.due_at, PerformanceTask.id)
        )
    )
    course_ids = sorted({task.course_id for task in tasks})
    learners = course_services.open_enrolment_learners(course_ids)
    learners |= classes.course_class_learners(course_ids)
    for task in tasks:
        for user_id in sorted(u for course_id, u in learners if course_id == task.course_id):
            user = db.session.get(User, user_id)
            if user is None or not user.role.is_learner or submissions_of(task, user):
                continue
            yield Deadline(
                user_id=user_id,
                subject_type="performance_task",
                subject_id=task.id,
                due_at=task.due_at,
                args={"title": task.title},
                link=f"/tasks/{task.id}",
            )


def register_tasks() -> None:
    """Add the performance-task due date source to the deadline reminder registry."""
    register_deadline_source(
        TASK_KIND,
        task_deadlines,
        title=_l('Task "%(title)s" is due %(when)s'),
        body=_l(
            'Your submission to "%(title)s" is due at %(due)s. After that, the task '
            "no longer accepts a first submission."
        ),
        label=_l("Task due date reminders"),
    )
