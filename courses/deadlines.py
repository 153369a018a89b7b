"""Deadline reminders for offline sessions (面授) and training classes.

Registers three sources with ``lms.notifications.deadlines``:

* ``lesson_session_starts``: every learner enrolled, and not yet done, in a
  programme whose course has an offline lesson they have not completed is
  reminded before the session starts.
* ``class_starts``: the enrolled members of a training class are reminded
  before its first day, unless a class session is held on that day.
* ``class_session_held``: the enrolled members are reminded before each
  session of the class.

Classes and their sessions have dates without a time, so their deadlines
fall at 00:00 of that date in the zone of the class's institution.
"""

from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.class_models import (
    ClassMember,
    ClassSession,
    ClassStatus,
    MemberStatus,
    TrainingClass,
)
from courses.models import Enrolment, Lesson, LessonProgress, ProgrammeCourse
from lms.extensions import db
from lms.notifications.deadlines import Deadline, register_deadline_source
from lms.organisations.models import Institution

KIND = "lesson_session_starts"
CLASS_KIND = "class_starts"
CLASS_SESSION_KIND = "class_session_held"

#: Classes whose members are reminded; drafts and cancelled classes are not.
_RUNNING = (ClassStatus.OPEN, ClassStatus.CLOSED)


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


def _zone(institution: Institution) -> ZoneInfo:
    try:
        return ZoneInfo(institution.timezone)
    except (ValueError, LookupError):
        return ZoneInfo("Asia/Shanghai")


def _day_start(day: date, training_class: TrainingClass) -> datetime:
    """Return 00:00 of ``day`` in the zone of the class's institution."""
    institution = db.session.get(Institution, training_class.institution_id)
    local = datetime.combine(day, time(0), tzinfo=_zone(institution))
    return local.astimezone(timezone.utc)


def _day_range(start: datetime, end: datetime) -> tuple[date, date]:
    """Return dates that cover (start, end] in every zone; callers then filter exactly."""
    return start.date() - timedelta(days=1), end.date() + timedelta(days=1)


def _enrolled_members(class_ids: list[int]) -> dict[int, list[int]]:
    rows = db.session.execute(
        sa.select(ClassMember.class_id, ClassMember.user_id)
        .where(
            ClassMember.class_id.in_(class_ids),
            ClassMember.status == MemberStatus.ENROLLED,
        )
        .order_by(ClassMember.class_id, ClassMember.user_id)
    ).all()
    members: dict[int, list[int]] = {}
    for class_id, user_id in rows:
        members.setdefault(class_id, []).append(user_id)
    return members


def class_start_deadlines(start: datetime, end: datetime) -> Iterator[Deadline]:
    """Yield one deadline per enrolled member of a class whose first day is in (start, end]."""
    first, last = _day_range(start, end)
    session_on_first_day = sa.exists().where(
        ClassSession.class_id == TrainingClass.id,
        ClassSession.held_on == TrainingClass.starts_on,
    )
    found = db.session.scalars(
        sa.select(TrainingClass)
        .where(
            TrainingClass.starts_on.between(first, last),
            TrainingClass.status.in_(_RUNNING),
            ~session_on_first_day,
        )
        .order_by(TrainingClass.starts_on, TrainingClass.id)
    ).all()
    due = {}
    for training_class in found:
        due_at = _day_start(training_class.starts_on, training_class)
        if start < due_at <= end:
            due[training_class.id] = (training_class, due_at)
    members = _enrolled_members(list(due))
    for class_id, (training_class, due_at) in due.items():
        for user_id in members.get(class_id, []):
            yield Deadline(
                user_id=user_id,
                subject_type="training_class",
                subject_id=class_id,
                due_at=due_at,
                args={
                    "title": training_class.title,
                    "date": training_class.starts_on,
                },
                link=f"/classes/{class_id}",
            )


def class_session_deadlines(start: datetime, end: datetime) -> Iterator[Deadline]:
    """Yield one deadline per enrolled member of a class session held in (start, end]."""
    first, last = _day_range(start, end)
    found = db.session.execute(
        sa.select(ClassSession, TrainingClass)
        .join(TrainingClass, TrainingClass.id == ClassSession.class_id)
        .where(
            ClassSession.held_on.between(first, last),
            TrainingClass.status.in_(_RUNNING),
        )
        .order_by(ClassSession.held_on, ClassSession.id)
    ).all()
    due = []
    for session, training_class in found:
        due_at = _day_start(session.held_on, training_class)
        if start < due_at <= end:
            due.append((session, training_class, due_at))
    members = _enrolled_members(sorted({each.id for _s, each, _d in due}))
    for session, training_class, due_at in due:
        for user_id in members.get(training_class.id, []):
            yield Deadline(
                user_id=user_id,
                subject_type="class_session",
                subject_id=session.id,
                due_at=due_at,
                args={
                    "title": session.title,
                    "class_title": training_class.title,
                    "date": session.held_on,
                    "place": session.place or "—",
                },
                link=f"/classes/{training_class.id}",
            )


def register() -> None:
    """Add the offline-session and training-class sources to the reminder registry."""
    register_deadline_source(
        KIND,
        lesson_session_deadlines,
        title=_l('Offline session "%(title)s" starts %(when)s'),
        body=_l(
            'The offline session "%(title)s" starts at %(due)s, place: %(place)s.'
        ),
        label=_l("Offline session reminders"),
    )
    register_deadline_source(
        CLASS_KIND,
        class_start_deadlines,
        title=_l('Training class "%(title)s" starts %(when)s'),
        body=_l('The training class "%(title)s" starts on %(date)s.'),
        label=_l("Training class start reminders"),
    )
    register_deadline_source(
        CLASS_SESSION_KIND,
        class_session_deadlines,
        title=_l('Class session "%(title)s" is held %(when)s'),
        body=_l(
            'The session "%(title)s" of the training class "%(class_title)s" '
            "is held on %(date)s, place: %(place)s."
        ),
        label=_l("Class session reminders"),
    )
