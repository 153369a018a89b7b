"""Course teachers: the users who may grade the work a course's learners hand in.

A user teaches a course when they are the author of any version of it
(``Course.author_id``) or a co-teacher added to any version of it on its
Teachers page (``CourseTeacher``). The trainers of a training class that
offers any version of it, alone or through a programme, teach it too.
Cancelled classes do not count. Versions of a course share its code, so teaching one version means
teaching all of them: learners pinned to an older version are still graded
by the people who teach the current one.

Who may make someone a class trainer follows who may add co-teachers
(``courses.teachers.may_manage``). A trainer offers a course in a class
only when they author a version of it, and a programme only when they
author a version of each of its courses. On a class that offers another
author's course, a trainer changes neither the offering nor the trainers
(``courses.class_authoring._check_offering_rights``). Administrators of the
institution offer anything and choose any trainers.

Grading (essay scores, rubric scores, final scores and overrides, and the
queues and files behind them) is open to the course's teachers and to the
administrators of its institution.
"""

import sqlalchemy as sa

from courses.class_models import ClassStatus, TrainingClass, class_trainer
from courses.models import Course, CourseTeacher, ProgrammeCourse
from lms.accounts.models import Role, User
from lms.extensions import db


def _taught_classes(user: User) -> sa.Select:
    """SELECT the ids of the classes ``user`` trains that are not cancelled."""
    return (
        sa.select(TrainingClass.id)
        .join(class_trainer, class_trainer.c.class_id == TrainingClass.id)
        .where(
            class_trainer.c.user_id == user.id,
            TrainingClass.institution_id == user.institution_id,
            TrainingClass.status != ClassStatus.CANCELLED,
        )
    )


def taught_codes(user: User) -> sa.Select:
    """SELECT the codes of the courses of the user's institution that ``user`` teaches."""
    classes = _taught_classes(user)
    offered_alone = sa.select(TrainingClass.course_id).where(
        TrainingClass.id.in_(classes), TrainingClass.course_id.is_not(None)
    )
    offered_in_programme = (
        sa.select(ProgrammeCourse.course_id)
        .join(TrainingClass, TrainingClass.programme_id == ProgrammeCourse.programme_id)
        .where(TrainingClass.id.in_(classes))
    )
    co_taught = sa.select(CourseTeacher.course_id).where(
        CourseTeacher.user_id == user.id
    )
    return sa.select(Course.code).where(
        Course.institution_id == user.institution_id,
        sa.or_(
            Course.author_id == user.id,
            Course.id.in_(co_taught),
            Course.id.in_(offered_alone),
            Course.id.in_(offered_in_programme),
        ),
    )


def teaches(user: User, course: Course) -> bool:
    """Return whether ``user`` teaches any version of ``course`` (see above)."""
    if course.institution_id != user.institution_id:
        return False
    same_code = taught_codes(user).where(Course.code == course.code)
    found = db.session.scalar(sa.select(sa.exists(same_code)))
    return bool(found)


def may_grade(user: User, course: Course) -> bool:
    """Return whether ``user`` may grade work on ``course``: its teachers and admins."""
    if course.institution_id != user.institution_id:
        return False
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.TRAINER and teaches(user, course)


def gradable_clause(user: User, course_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Return an SQL condition on ``course_id`` that keeps the courses ``user`` may grade."""
    mine = sa.select(Course.id).where(Course.institution_id == user.institution_id)
    if user.role is Role.ADMIN:
        return course_id.in_(mine)
    if user.role is not Role.TRAINER:
        return sa.false()
    return course_id.in_(mine.where(Course.code.in_(taught_codes(user))))
