"""Attendance marks credit the hours ledger by the class's conversion rule."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import class_attendance, classes
from courses.class_models import AttendanceStatus, SessionLength
from courses.authoring import AuthoringError
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from lms.records.services import hours_by_tier
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def enrolled(world):
    training_class = make_class(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    classes.add_member(training_class, user(world.counselor2), by=user(world.trainer))
    return training_class


def _entries(user_id: int) -> list[HoursEntry]:
    return list(db.session.scalars(
        sa.select(HoursEntry).where(HoursEntry.user_id == user_id).order_by(HoursEntry.id)
    ))


def _net(user_id: int) -> Decimal:
    return sum((entry.hours for entry in _entries(user_id)), Decimal(0))


def test_present_full_day_credits_default_eight(world, enrolled):
    session = make_session(enrolled, length=SessionLength.FULL_DAY)

    class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))

    [entry] = _entries(world.counselor)
    assert entry.hours == Decimal(8)
    assert entry.source_type == "class_session"
    assert entry.source_id == session.id
    assert entry.year == 2026
    assert entry.occurred_on == date(2026, 9, 2)
    assert entry.tier is TrainingTier.SCHOOL
    assert entry.kind is TrainingKind.DEMONSTRATION


def test_sessions_carry_class_training(world, enrolled):
    course_class = make_class(world, code="2026-04", course_only=True)
    classes.add_member(course_class, user(world.counselor), by=user(world.trainer))
    trainer = user(world.trainer)
    for held_on in (date(2026, 9, 2), date(2026, 9, 3)):
        session = make_session(enrolled, held_on=held_on)
        class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, trainer)
    # Another date, because one date credits at most a full day of all classes.
    course_session = make_session(course_class, held_on=date(2026, 9, 4))
    class_attendance.mark(course_session, user(world.counselor), AttendanceStatus.PRESENT, trainer)

    trainings = [(entry.training_type, entry.training_id) for entry in _entries(world.counselor)]

    assert trainings == [
        ("programme", world.programme),
        ("programme", world.programme),
        ("training_class", course_class.id),
    ]


def test_late_half_day_credits_four(world, enrolled):
    session = make_session(enrolled, length=SessionLength.HALF_DAY)

    class_attendance.mark(session, user(world.counselor), AttendanceStatus.LATE, user(world.trainer))

    assert _net(world.counselor) == Decimal(4)


@pytest.mark.parametrize("status", [AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT])
def test_missed_session_credits_nothing(world, enrolled, status):
    session = make_session(enrolled)

    class_attendance.mark(session, user(world.counselor), status, user(world.trainer))

    assert _entries(world.counselor) == []


def test_class_conversion_overrides_default(world):
    training_class = make_class(world, full_day_hours="6", half_day_hours="3")
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    full = make_session(training_class, length=SessionLength.FULL_DAY)
    half = make_session(training_class, date(2026, 9, 3), SessionLength.HALF_DAY, "分组研讨")

    class_attendance.mark(full, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))
    class_attendance.mark(half, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))

    assert _net(world.counselor) == Decimal(9)


def test_institution_default_comes_from_config(app, world, enrolled):
    session = make_session(enrolled)
    app.config["CLASS_FULL_DAY_HOURS"] = "7.5"
    try:
        class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))
    finally:
        app.config["CLASS_FULL_DAY_HOURS"] = "8"

    assert _net(world.counselor) == Decimal("7.5")


def test_remarking_adjusts_ledger_without_duplicates(world, enrolled):
    session = make_session(enrolled)
    counselor, trainer = user(world.counselor), user(world.trainer)

    class_attendance.mark(session, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(session, counselor, AttendanceStatus.PRESENT, trainer)
    assert len(_entries(world.counselor)) == 1

    class_attendance.mark(session, counselor, AttendanceStatus.ABSENT, trainer)
    entries = _entries(world.counselor)
    assert len(entries) == 2
    assert entries[1].hours == Decimal(-8)
    assert entries[1].corrects_id == entries[0].id
    assert _net(world.counselor) == 0

    class_attendance.mark(session, counselor, AttendanceStatus.LATE, trainer)
    class_attendance.mark(session, counselor, AttendanceStatus.PRESENT, trainer)
    assert len(_entries(world.counselor)) == 3
    assert _net(world.counselor) == Decimal(8)
    assert hours_by_tier(counselor, 2026)[TrainingTier.SCHOOL] == Decimal(8)


def test_conversion_change_resyncs_marks(world, enrolled):
    session = make_session(enrolled)
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))

    enrolled.full_day_hours = Decimal(6)
    class_attendance.resync_class(enrolled)

    assert _net(world.counselor) == Decimal(6)
    assert len(_entries(world.counselor)) == 2


def test_sheet_marks_only_people_on_sheet(world, enrolled):
    session = make_session(enrolled)
    marks = {
        world.counselor: AttendanceStatus.PRESENT,
        world.counselor2: AttendanceStatus.EXCUSED,
        world.counselor_b: AttendanceStatus.PRESENT,
    }

    result = class_attendance.mark_sheet(session, marks, user(world.trainer))

    assert result.saved == 2
    assert result.not_on_sheet == [world.counselor_b]
    assert _net(world.counselor) == Decimal(8)
    assert _entries(world.counselor2) == []
    assert _entries(world.counselor_b) == []


def test_sheet_locks_people_in_id_order(world, enrolled, monkeypatch):
    session = make_session(enrolled)
    locked = []
    monkeypatch.setattr(
        class_attendance, "lock_person_day", lambda _session, person: locked.append(person.id)
    )
    first, second = sorted((world.counselor, world.counselor2))
    marks = {second: AttendanceStatus.PRESENT, first: AttendanceStatus.PRESENT}

    class_attendance.mark_sheet(session, marks, user(world.trainer))

    assert locked == [first, second]


def test_session_outside_period_rejected(world, enrolled):
    with pytest.raises(AuthoringError) as error:
        class_attendance.add_session(
            enrolled,
            {"title": "结业式", "held_on": "2026-08-31", "length": "full_day"},
            user(world.trainer),
        )

    assert "held_on" in error.value.errors


def test_marked_session_cannot_be_deleted(world, enrolled):
    session = make_session(enrolled)
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.ABSENT, user(world.trainer))

    with pytest.raises(AuthoringError):
        class_attendance.delete_session(session, user(world.trainer))


def test_session_length_change_corrects_hours(world, enrolled):
    session = make_session(enrolled, length=SessionLength.FULL_DAY)
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))

    class_attendance.update_session(
        session,
        {"title": session.title, "held_on": "2026-09-02", "length": "half_day"},
        user(world.trainer),
    )

    assert _net(world.counselor) == Decimal(4)


def test_marked_session_day_is_fixed(world, enrolled):
    session = make_session(enrolled)
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))

    with pytest.raises(AuthoringError) as error:
        class_attendance.update_session(
            session,
            {"title": session.title, "held_on": "2026-09-03", "length": "full_day"},
            user(world.trainer),
        )

    assert "held_on" in error.value.errors


def test_mark_changes_are_audited(world, enrolled):
    from lms.audit import AuditEntry

    session = make_session(enrolled)
    counselor, trainer = user(world.counselor), user(world.trainer)

    class_attendance.mark(session, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(session, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(session, counselor, AttendanceStatus.ABSENT, trainer)

    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "class.attendance_marked")
        .order_by(AuditEntry.id)
    ).all()
    assert [entry.data["status"] for entry in entries] == ["present", "absent"]
    assert entries[1].data["previous"] == "present"
    assert entries[1].actor_id == world.trainer
