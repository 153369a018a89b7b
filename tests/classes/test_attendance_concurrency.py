"""Two marks of one person and date saved at once, on PostgreSQL where they overlap.

SQLite starts writing requests with BEGIN IMMEDIATE, so its transactions
never overlap and these tests run only when LMS_TEST_DATABASE_URL points at
PostgreSQL.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import class_attendance, classes
from courses.class_models import AttendanceStatus, ClassSession
from lms.accounts.models import User
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world

DAY = date(2026, 9, 5)


@pytest.fixture
def postgres_only(app):
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")


def test_overlapping_marks_credit_one_full_day(app, postgres_only):
    # Two full-day sessions on one date, as a class scheduled before the
    # daily limit was checked may still have.
    with app.app_context():
        world = build_learning_world()
        training_class = _class_with_member(world)
        session_ids = [make_session(training_class, held_on=DAY).id for _ in range(2)]
        counselor_id, trainer_id = world.counselor, world.trainer
        db.session.commit()

    first_marked = threading.Event()
    second_done = threading.Event()
    errors = []

    def mark(session_id, before_commit=None):
        with app.app_context():
            try:
                session = db.session.get(ClassSession, session_id)
                class_attendance.mark(
                    session,
                    db.session.get(User, counselor_id),
                    AttendanceStatus.PRESENT,
                    db.session.get(User, trainer_id),
                )
                if before_commit is not None:
                    before_commit()
                db.session.commit()
            except Exception as exc:  # reported by the assert below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def hold_open():
        # Keep the first transaction uncommitted until the second is done, or
        # for a few seconds while the lock makes the second wait.
        first_marked.set()
        second_done.wait(timeout=3)

    def second():
        first_marked.wait(timeout=30)
        mark(session_ids[1])
        second_done.set()

    threads = [
        threading.Thread(target=mark, args=(session_ids[0], hold_open)),
        threading.Thread(target=second),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with app.app_context():
        hours = db.session.scalars(sa.select(HoursEntry.hours).filter_by(user_id=counselor_id))
        assert sum(hours, Decimal(0)) == Decimal(8)


def _class_with_member(world):
    training_class = make_class(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    return training_class


def test_overlapping_absences_withdraw_beyond_leave_limit(app, postgres_only):
    # Seven full days allow one day of leave. Two sheets of different days,
    # each with one absence, are saved at once: together they exceed it.
    from courses.class_models import ClassMember, MemberStatus, WithdrawalReason

    with app.app_context():
        world = build_learning_world()
        training_class = _class_with_member(world)
        training_class.leave_limit_num, training_class.leave_limit_den = 1, 7
        session_ids = [
            make_session(training_class, held_on=date(2026, 9, 1 + day)).id for day in range(7)
        ]
        class_id, counselor_id, trainer_id = training_class.id, world.counselor, world.trainer
        db.session.commit()

    first_marked = threading.Event()
    second_done = threading.Event()
    errors = []

    def save_sheet(session_id, before_commit=None):
        with app.app_context():
            try:
                session = db.session.get(ClassSession, session_id)
                class_attendance.mark_sheet(
                    session, {counselor_id: AttendanceStatus.ABSENT},
                    db.session.get(User, trainer_id),
                )
                if before_commit is not None:
                    before_commit()
                db.session.commit()
            except Exception as exc:  # reported by the assert below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def hold_open():
        first_marked.set()
        second_done.wait(timeout=3)

    def second():
        first_marked.wait(timeout=30)
        save_sheet(session_ids[1])
        second_done.set()

    threads = [
        threading.Thread(target=save_sheet, args=(session_ids[0], hold_open)),
        threading.Thread(target=second),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with app.app_context():
        member = db.session.scalar(
            sa.select(ClassMember).filter_by(class_id=class_id, user_id=counselor_id)
        )
        assert member.status is MemberStatus.WITHDRAWN
        assert member.withdrawal_reason is WithdrawalReason.LEAVE_LIMIT
