"""Builders for training-class tests."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Optional

from courses.class_models import (
    ClassStatus,
    EnrolmentMode,
    SessionLength,
    ClassSession,
    TrainingClass,
)
from lms.accounts.models import User
from lms.extensions import db
from lms.records.models import TrainingKind, TrainingTier


def make_class(
    world,
    *,
    code: str = "2026-03",
    mode: EnrolmentMode = EnrolmentMode.ASSIGNED,
    capacity: Optional[int] = None,
    status: ClassStatus = ClassStatus.OPEN,
    course_only: bool = False,
    full_day_hours: Optional[str] = None,
    half_day_hours: Optional[str] = None,
) -> TrainingClass:
    training_class = TrainingClass(
        institution_id=world.uni_a,
        code=code,
        title="2026年第3期 组织员示范培训班",
        programme_id=None if course_only else world.programme,
        course_id=world.course2 if course_only else None,
        starts_on=date(2026, 9, 1),
        # Open for another 60 days whenever the tests run, so self-enrolment works.
        ends_on=max(date(2026, 9, 30), date.today() + timedelta(days=60)),
        capacity=capacity,
        enrolment_mode=mode,
        status=status,
        tier=TrainingTier.SCHOOL,
        kind=TrainingKind.DEMONSTRATION,
        full_day_hours=Decimal(full_day_hours) if full_day_hours else None,
        half_day_hours=Decimal(half_day_hours) if half_day_hours else None,
    )
    training_class.trainers = [db.session.get(User, world.trainer)]
    db.session.add(training_class)
    db.session.flush()
    return training_class


def make_session(
    training_class: TrainingClass,
    held_on: date = date(2026, 9, 2),
    length: SessionLength = SessionLength.FULL_DAY,
    title: str = "开班式与专题讲座",
) -> ClassSession:
    session = ClassSession(
        class_id=training_class.id, title=title, held_on=held_on, length=length, place="行政楼301"
    )
    db.session.add(session)
    db.session.flush()
    return session


def user(user_id: int) -> User:
    return db.session.get(User, user_id)
