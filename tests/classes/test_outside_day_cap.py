"""Outside trainings and class attendance on the same dates share one daily cap.

A calendar day earns at most a full day's 学时 (8 by default), whether they
come from a training taken elsewhere, from class sessions, or from both.
"""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import class_attendance, classes
from courses.class_models import AttendanceStatus
from lms.compliance.engine import evaluate
from lms.compliance.models import ComplianceRule
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.records import external, services
from lms.records.models import (
    ExternalTraining,
    ExternalTrainingStatus,
    HoursEntry,
    TrainingKind,
    TrainingTier,
)
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world

DAY = date(2026, 9, 5)
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def enrolled(world):
    training_class = make_class(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    return training_class


def _outside(world, start: date, end: date, hours: str) -> ExternalTraining:
    training = ExternalTraining(
        user_id=world.counselor,
        title="全省辅导员骨干研修班",
        organiser="省教育厅",
        tier=TrainingTier.SCHOOL,
        kind=TrainingKind.THEMATIC,
        start_date=start,
        end_date=end,
        hours=Decimal(hours),
        evidence_path="day-cap.pdf",
        evidence_name="结业证书.pdf",
        evidence_type="application/pdf",
    )
    db.session.add(training)
    db.session.flush()
    return training


def _approved(world, start: date, end: date, hours: str) -> ExternalTraining:
    training = _outside(world, start, end, hours)
    assert external.approve(training, user(world.hr))
    return training


def _net(user_id: int) -> Decimal:
    hours = db.session.scalars(sa.select(HoursEntry.hours).filter_by(user_id=user_id))
    return sum(hours, Decimal(0))


def _credited(world, training_class, session) -> Decimal:
    marks = class_attendance.marks_of(user(world.counselor), training_class)
    return Decimal(marks[session.id].credited_hours)


def test_attendance_beside_outside_day_capped(world, enrolled):
    _approved(world, DAY, DAY, "8")
    session = make_session(enrolled, held_on=DAY)

    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )

    assert _net(world.counselor) == Decimal(8)
    assert _credited(world, enrolled, session) == 0


def test_attendance_takes_room_left_over(world, enrolled):
    # Two days earn at most 16 学时, and the outside training has 12 of them.
    _approved(world, DAY - timedelta(days=1), DAY, "12")
    session = make_session(enrolled, held_on=DAY)

    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )

    assert _credited(world, enrolled, session) == Decimal(4)
    assert _net(world.counselor) == Decimal(16)


def test_half_day_outside_leaves_half_day(world, enrolled):
    _approved(world, DAY, DAY, "4")
    session = make_session(enrolled, held_on=DAY)

    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )

    assert _credited(world, enrolled, session) == Decimal(4)
    assert _net(world.counselor) == Decimal(8)


def test_outside_on_other_day_not_capped(world, enrolled):
    _approved(world, DAY + timedelta(days=1), DAY + timedelta(days=1), "8")
    session = make_session(enrolled, held_on=DAY)

    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )

    assert _credited(world, enrolled, session) == Decimal(8)
    assert _net(world.counselor) == Decimal(16)


def test_approval_lowers_credited_attendance(world, enrolled):
    session = make_session(enrolled, held_on=DAY)
    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )
    pending = _outside(world, DAY, DAY, "8")
    assert _net(world.counselor) == Decimal(8)

    assert external.approve(pending, user(world.hr))

    assert _credited(world, enrolled, session) == 0
    assert _net(world.counselor) == Decimal(8)


def test_withdrawal_restores_attendance(world, enrolled):
    training = _approved(world, DAY, DAY, "8")
    session = make_session(enrolled, held_on=DAY)
    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )

    assert external.withdraw(training, user(world.hr), "证书与本人不符")

    assert training.status is ExternalTrainingStatus.REJECTED
    assert _credited(world, enrolled, session) == Decimal(8)
    assert _net(world.counselor) == Decimal(8)


def test_hours_owed_count_capped_day(world, enrolled):
    seed_rules()
    rule = db.session.scalar(
        sa.select(ComplianceRule).filter_by(code="counselor-school-yearly")
    )
    _approved(world, DAY, DAY, "8")
    session = make_session(enrolled, held_on=DAY)
    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )
    person = user(world.counselor)

    verdict = evaluate(person, rule, year=DAY.year)
    summary = services.yearly_summary(person, DAY.year)

    assert verdict.achieved == Decimal(8)
    assert summary["total"] == Decimal(8)


def test_hr_entry_names_class_session(world, enrolled, login, english):
    session = make_session(enrolled, held_on=DAY)
    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )
    db.session.commit()

    response = login("hr").post(
        f"/people/{world.counselor}/external/new",
        data={
            "title": "全省辅导员骨干研修班",
            "organiser": "省教育厅",
            "tier": "school",
            "kind": "thematic",
            "start_date": DAY.isoformat(),
            "end_date": DAY.isoformat(),
            "hours": "8",
            "evidence": (io.BytesIO(PDF), "结业证书.pdf"),
        },
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "开班式与专题讲座" in page
    assert "1 day earns at most 8 hours" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExternalTraining.id))) == 0


def test_ledger_explains_capped_day(world, enrolled, login, english):
    _approved(world, DAY, DAY, "8")
    session = make_session(enrolled, held_on=DAY)
    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )
    db.session.commit()

    page = login("hr").get(f"/people/{world.counselor}/record").get_data(as_text=True)

    assert "Days capped at a full day" in page
    assert "全省辅导员骨干研修班" in page
    assert "开班式与专题讲座" in page


def test_two_classes_share_one_day(world, enrolled):
    other_class = make_class(world, code="2026-04", course_only=True)
    classes.add_member(other_class, user(world.counselor), by=user(world.trainer))
    first = make_session(enrolled, held_on=DAY)
    second = make_session(other_class, held_on=DAY)
    counselor, trainer = user(world.counselor), user(world.trainer)
    class_attendance.mark(first, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(second, counselor, AttendanceStatus.PRESENT, trainer)
    assert _net(world.counselor) == Decimal(8)
    assert _credited(world, other_class, second) == 0

    class_attendance.mark(first, counselor, AttendanceStatus.ABSENT, trainer)

    assert _credited(world, other_class, second) == Decimal(8)
    assert _net(world.counselor) == Decimal(8)


def test_apply_day_cap_fixes_old_credit(app, world, enrolled, monkeypatch):
    session = make_session(enrolled, held_on=DAY)
    class_attendance.mark(
        session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer)
    )
    # Data recorded before the cap covered class sessions: approved without
    # the class sessions being credited again.
    monkeypatch.setattr("lms.records.day_cap.announce_hours_changed", lambda training: None)
    _approved(world, DAY, DAY, "8")
    monkeypatch.undo()
    db.session.commit()
    assert _net(world.counselor) == Decimal(16)

    result = app.test_cli_runner().invoke(args=["lms", "apply-day-cap"])

    assert result.exit_code == 0, result.output
    assert "1 approved trainings" in result.output
    db.session.expire_all()
    assert _net(world.counselor) == Decimal(8)
    assert _credited(world, enrolled, session) == 0
