"""Class pages through the test client: access, forms, roster export, my learning."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from courses import class_attendance, classes
from courses.class_models import (
    Attendance,
    AttendanceStatus,
    ClassMember,
    ClassStatus,
    EnrolmentMode,
    MemberStatus,
    TrainingClass,
)
from courses.models import Programme
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.compliance.models import ComplianceRule, WindowKind
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingTier
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world, make_user, finish_lesson


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _member(class_id: int, user_id: int):
    db.session.expire_all()
    return db.session.scalar(sa.select(ClassMember).filter_by(class_id=class_id, user_id=user_id))


def test_trainer_creates_class_through_form(world, login):
    trainer = login("trainer")

    response = trainer.post("/classes/new", data={
        "code": "2026-03-organiser",
        "title": "2026年第3期 组织员示范培训班",
        "offering": f"p:{world.programme}",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-20",
        "capacity": "30",
        "enrolment_mode": "approval",
        "tier": "school",
        "kind": "demonstration",
        "full_day_hours": "",
        "half_day_hours": "3.5",
        "trainer_ids": [str(world.trainer)],
    })

    assert response.status_code == 302
    created = db.session.scalar(sa.select(TrainingClass).filter_by(code="2026-03-organiser"))
    assert created.capacity == 30
    assert created.half_day_hours == Decimal("3.5")
    assert created.status is ClassStatus.DRAFT
    assert [t.id for t in created.trainers] == [world.trainer]


def test_class_form_names_bad_fields(world, login):
    trainer = login("trainer")

    response = trainer.post("/classes/new", data={
        "code": "bad code",
        "title": "",
        "offering": f"p:{world.draft}",
        "starts_on": "2026-09-10",
        "ends_on": "2026-09-01",
        "enrolment_mode": "assigned",
        "tier": "school",
        "half_day_hours": "-1",
        "trainer_ids": [str(world.counselor)],
    })

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("code", "title", "offering", "ends_on", "half_day_hours", "trainer_ids"):
        assert f'id="{field}-error"' in page, field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingClass)) == 0


def test_counselor_self_enrols_and_leaves_with_promotion(world, login):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    db.session.commit()
    first, second = login("counselor1"), login("counselor2")

    assert first.post(f"/classes/{klass.id}/join").status_code == 302
    assert second.post(f"/classes/{klass.id}/join").status_code == 302
    assert _member(klass.id, world.counselor2).status is MemberStatus.WAITING

    first.post(f"/classes/{klass.id}/leave")

    assert _member(klass.id, world.counselor).status is MemberStatus.WITHDRAWN
    assert _member(klass.id, world.counselor2).status is MemberStatus.ENROLLED


def test_second_leave_says_already_left(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    db.session.commit()
    counselor = login("counselor1")
    counselor.post(f"/classes/{klass.id}/join")
    counselor.post(f"/classes/{klass.id}/leave")

    response = counselor.post(f"/classes/{klass.id}/leave", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You have already left this class." in page
    assert "This person holds no place in the class." not in page
    assert _member(klass.id, world.counselor).status is MemberStatus.WITHDRAWN


def test_approval_through_roster(world, login):
    klass = make_class(world, mode=EnrolmentMode.APPROVAL)
    db.session.commit()
    login("counselor1").post(f"/classes/{klass.id}/join")
    member = _member(klass.id, world.counselor)
    assert member.status is MemberStatus.PENDING
    trainer = login("trainer")

    roster = trainer.get(f"/classes/{klass.id}/roster").get_data(as_text=True)
    assert f"/members/{member.id}/approve" in roster
    trainer.post(f"/classes/{klass.id}/members/{member.id}/approve")

    assert _member(klass.id, world.counselor).status is MemberStatus.ENROLLED



def _withdrawal_audits() -> list[AuditEntry]:
    return db.session.scalars(
        sa.select(AuditEntry).filter_by(action="class.member_withdrawn")
    ).all()


def test_trainer_withdrawal_is_audited(world, login):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    db.session.commit()
    login("counselor1").post(f"/classes/{klass.id}/join")
    member = _member(klass.id, world.counselor)

    withdrawn = login("trainer").post(f"/classes/{klass.id}/members/{member.id}/withdraw")

    assert withdrawn.status_code == 302
    assert _member(klass.id, world.counselor).status is MemberStatus.WITHDRAWN
    audits = _withdrawal_audits()
    assert len(audits) == 1
    assert audits[0].actor_id == world.trainer
    assert audits[0].subject_id == member.id
    assert audits[0].data == {"before": "enrolled"}


def test_own_leaving_is_not_audited(world, login):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    db.session.commit()
    counselor = login("counselor1")
    counselor.post(f"/classes/{klass.id}/join")

    counselor.post(f"/classes/{klass.id}/leave")

    assert _member(klass.id, world.counselor).status is MemberStatus.WITHDRAWN
    assert _withdrawal_audits() == []

def test_hand_and_rule_enrolment_views(world, login):
    klass = make_class(world)
    db.session.commit()
    trainer = login("trainer")

    trainer.post(f"/classes/{klass.id}/members", data={"user_ids": [str(world.organiser)]})
    trainer.post(f"/classes/{klass.id}/members/rule", data={"department_id": str(world.physics)})
    empty = trainer.post(f"/classes/{klass.id}/members/rule", data={})

    assert _member(klass.id, world.organiser).status is MemberStatus.ENROLLED
    assert _member(klass.id, world.counselor2).status is MemberStatus.ENROLLED
    assert _member(klass.id, world.counselor) is None
    assert empty.status_code == 302


def test_attendance_sheet_view_credits_hours(world, login):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()
    trainer = login("trainer")
    url = f"/classes/{klass.id}/sessions/{session.id}/attendance"

    assert "张老师" in trainer.get(url).get_data(as_text=True)
    trainer.post(url, data={f"mark-{world.counselor}": "present"})
    trainer.post(url, data={f"mark-{world.counselor}": "excused"})

    db.session.expire_all()
    hours = db.session.scalars(sa.select(HoursEntry.hours).filter_by(user_id=world.counselor)).all()
    assert sorted(hours) == [Decimal(-8), Decimal(8)]


def _attendance_rows(session_id: int) -> list[Attendance]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Attendance).filter_by(session_id=session_id)))


def test_attendance_invalid_mark_answers_400(world, login, english):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()
    trainer = login("trainer")
    url = f"/classes/{klass.id}/sessions/{session.id}/attendance"

    response = trainer.post(
        url, data={f"mark-{world.counselor}": "late", f"mark-{world.counselor2}": "sick"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose present, late, excused or absent for each person." in page
    assert re.search(rf'name="mark-{world.counselor}" value="late"[^>]*checked', page)
    assert not re.search(rf'name="mark-{world.counselor}" value="present"[^>]*checked', page)
    assert _attendance_rows(session.id) == []


def test_ignored_marks_listed_in_chinese(world, login):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()
    url = f"/classes/{klass.id}/sessions/{session.id}/attendance"

    response = login("trainer").post(
        url,
        data={
            f"mark-{world.counselor}": "present",
            f"mark-{world.counselor2}": "present",
            f"mark-{world.organiser}": "present",
        },
        follow_redirects=True,
    )

    assert "李老师、王组织员" in response.get_data(as_text=True)


def test_attendance_without_marks_answers_400(world, login, english):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()
    trainer = login("trainer")
    url = f"/classes/{klass.id}/sessions/{session.id}/attendance"

    response = trainer.post(url, data={f"mark-{world.counselor}": ""})

    assert response.status_code == 400
    assert "Choose a mark for at least one person" in response.get_data(as_text=True)
    assert _attendance_rows(session.id) == []


def test_session_added_through_form(world, login):
    klass = make_class(world)
    db.session.commit()
    trainer = login("trainer")

    trainer.post(f"/classes/{klass.id}/sessions", data={
        "title": "专题讲座", "held_on": "2026-09-05", "length": "half_day", "place": "报告厅",
    })

    db.session.expire_all()
    [session] = db.session.get(TrainingClass, klass.id).sessions
    assert session.held_on == date(2026, 9, 5)


def test_roster_export_xlsx(world, login):
    klass = make_class(world)
    counselor = user(world.counselor)
    counselor.employee_no = "E1001"
    classes.add_member(klass, counselor, by=user(world.trainer))
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    from courses.models import Course

    for lesson in db.session.get(Course, world.course2).lessons:
        finish_lesson(counselor, lesson)
    session = make_session(klass)
    class_attendance.mark(session, counselor, AttendanceStatus.PRESENT, user(world.trainer))
    db.session.commit()

    response = login("hr").get(f"/classes/{klass.id}/roster.xlsx")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    by_name = {row[1]: row for row in rows[1:]}
    zhang = by_name["张老师"]
    assert zhang[0] == "E1001"
    assert zhang[2] == "教育学院"
    assert zhang[4] == 1  # lessons done: course 2's only lesson
    assert zhang[6] == 1  # courses completed
    assert zhang[7] == 1.5
    assert zhang[8] == 8
    assert zhang[9] == 9.5
    assert by_name["李老师"][9] == 0


@pytest.mark.parametrize(
    "username, url_suffix, status",
    [
        ("counselor1", "/roster", 403),
        ("counselor1", "/edit", 403),
        ("hr", "/roster", 200),
        ("hr", "/edit", 403),
        ("admin", "/edit", 200),
        ("trainer2", "/edit", 403),
        ("trainer2", "/roster", 403),
        ("hr_b", "", 404),
        ("hr_b", "/roster", 404),
        ("counselor_b", "", 404),
    ],
)
def test_class_access(world, login, username, url_suffix, status):
    from lms.organisations.models import Institution

    make_user(db.session.get(Institution, world.uni_a), "trainer2", Role.TRAINER)
    klass = make_class(world)
    db.session.commit()

    response = login(username).get(f"/classes/{klass.id}{url_suffix}")

    assert response.status_code == status


def test_learner_sees_draft_class_once_open(world, login):
    klass = make_class(world, status=ClassStatus.DRAFT)
    db.session.commit()
    counselor = login("counselor1")

    assert counselor.get(f"/classes/{klass.id}").status_code == 404
    classes.add_member(db.session.get(TrainingClass, klass.id), user(world.counselor), by=user(world.trainer))
    db.session.commit()
    assert counselor.get(f"/classes/{klass.id}").status_code == 404
    login("trainer").post(f"/classes/{klass.id}/status", data={"status": "closed"})
    assert counselor.get(f"/classes/{klass.id}").status_code == 200


def test_my_learning_shows_classes_hours_and_requirements(world, login):
    programme = db.session.get(Programme, world.programme)
    other = Programme(
        institution_id=world.uni_a, code="p-secretary", title="党支部书记专题轮训",
        tier=TrainingTier.SCHOOL, kind=programme.kind, level=programme.level,
        audience="教师党支部书记", status=programme.status,
    )
    db.session.add(other)
    klass = make_class(world, course_only=True)
    soon = date.today() + timedelta(days=10)
    klass.starts_on, klass.ends_on = date.today(), soon + timedelta(days=5)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    make_session(klass, held_on=soon, title="结业考核")
    db.session.add(ComplianceRule(
        institution_id=world.uni_a, code="r16", name="专职辅导员每年校级培训不少于16学时",
        roles=[Role.COUNSELOR], window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(16), tiers=[TrainingTier.SCHOOL],
    ))
    db.session.commit()

    page = login("counselor1").get("/learning").get_data(as_text=True)

    assert "初级辅导员岗前培训" in page  # required for 专职辅导员, not yet enrolled
    assert f'/programmes/{world.programme}/enrol' in page
    assert "党支部书记专题轮训" not in page  # meant for another post
    assert "2026年第3期 组织员示范培训班" in page
    assert "专职辅导员每年校级培训不少于16学时" in page
    assert "结业考核" in page  # the next date
    assert f"/classes/{klass.id}" in page


def test_my_learning_hours_by_tier(world, login, monkeypatch):
    from lms.records import services as record_services

    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    session = make_session(klass)
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.PRESENT, user(world.trainer))
    db.session.commit()
    monkeypatch.setattr(record_services, "current_year", lambda person: 2026)

    page = login("counselor1").get("/learning").get_data(as_text=True)

    assert "2026" in page
    assert ">8<" in page or ">8.0<" in page


def test_learner_sees_own_attendance(world, login):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    session = make_session(klass)
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.LATE, user(world.trainer))
    class_attendance.mark(session, user(world.counselor2), AttendanceStatus.ABSENT, user(world.trainer))
    db.session.commit()

    mine = login("counselor1").get(f"/classes/{klass.id}").get_data(as_text=True)
    other = login("counselor2").get(f"/classes/{klass.id}").get_data(as_text=True)

    # The attendance column shows each session's credit after the mark.
    assert "· 8学时" in mine
    assert "· 0学时" in other
    assert "· 8学时" not in other


def test_roster_counts_lessons_and_quizzes(world, login):
    from assessments import services as quiz_services
    from assessments.models import Quiz
    from courses.models import Lesson

    klass = make_class(world)
    counselor = user(world.counselor)
    classes.add_member(klass, counselor, by=user(world.trainer))
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    finish_lesson(counselor, db.session.get(Lesson, world.lessons1[0]))
    quiz = db.session.get(Quiz, world.quiz)
    attempt = quiz_services.start_attempt(counselor, quiz)
    answers = {q.id: {c.id for c in q.choices if c.is_correct} for q in quiz.questions}
    quiz_services.submit_attempt(attempt, answers)
    db.session.commit()

    response = login("trainer").get(f"/classes/{klass.id}/roster.xlsx")

    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["张老师"][4] == 1
    assert by_name["张老师"][5] == 1
    assert by_name["张老师"][6] == 0
    assert by_name["李老师"][4] == 0
    assert by_name["李老师"][5] == 0


def test_period_must_keep_sessions_inside(world, login):
    klass = make_class(world)
    make_session(klass, held_on=date(2026, 9, 20))
    db.session.commit()

    response = login("trainer").post(f"/classes/{klass.id}/edit", data={
        "code": klass.code, "title": klass.title, "starts_on": "2026-09-01",
        "ends_on": "2026-09-10", "enrolment_mode": "assigned", "tier": "school",
        "offering": f"p:{world.programme}", "trainer_ids": [str(world.trainer)],
    })

    assert response.status_code == 400
    assert "2026年9月20日" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).ends_on != date(2026, 9, 10)


def test_full_class_offers_waiting_list(world, login):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.request_place(klass, user(world.counselor))
    db.session.commit()

    page = login("counselor2").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert "Join the waiting list" in page or "加入候补名单" in page
    assert f'action="/classes/{klass.id}/join"' in page


def _edit_data(world, klass, **overrides) -> dict:
    data = {
        "code": klass.code, "title": klass.title, "starts_on": "2026-09-01",
        "ends_on": klass.ends_on.isoformat(), "enrolment_mode": "assigned", "tier": "school",
        "offering": f"p:{world.programme}", "trainer_ids": [str(world.trainer)],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "sNaN", "abc", "1e40"])
@pytest.mark.parametrize("field", ["full_day_hours", "half_day_hours"])
def test_class_hours_not_a_number_named(world, login, english, field, value):
    klass = make_class(world)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit", data=_edit_data(world, klass, **{field: value})
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page
    assert "Enter a number of hours, e.g. 8 or 3.5." in page


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("full_day_hours", "24.1", "Hours for a full-day session: enter a number above 0 and at most 24"),
        ("full_day_hours", "100", "Hours for a full-day session: enter a number above 0 and at most 24"),
        ("full_day_hours", "0", "Hours for a full-day session: enter a number above 0 and at most 24"),
        ("half_day_hours", "12.5", "Hours for a half-day session: enter a number above 0 and at most 12"),
    ],
)
def test_class_hours_above_a_day_refused(world, login, english, field, value, words):
    klass = make_class(world)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit", data=_edit_data(world, klass, **{field: value})
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page
    assert words in page
    db.session.expire_all()
    assert getattr(db.session.get(TrainingClass, klass.id), field) is None


def test_class_hours_of_a_whole_day_accepted(world, login):
    klass = make_class(world)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, full_day_hours="24", half_day_hours="12"),
    )

    assert response.status_code == 302


def test_class_hours_in_full_width_accepted(world, login):
    klass = make_class(world)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, full_day_hours="７．５", half_day_hours="３．５"),
    )

    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(TrainingClass, klass.id)
    assert saved.full_day_hours == Decimal("7.5")
    assert saved.half_day_hours == Decimal("3.5")


def test_capacity_below_enrolment_rejected(world, login, english):
    klass = make_class(world, capacity=5)
    trainer_user = user(world.trainer)
    classes.add_member(klass, user(world.counselor), by=trainer_user)
    classes.add_member(klass, user(world.counselor2), by=trainer_user)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit", data=_edit_data(world, klass, capacity="1")
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="capacity-error"' in page
    assert "2 people are enrolled already." in page
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).capacity == 5


def test_capacity_equal_to_enrolment_accepted(world, login):
    klass = make_class(world, capacity=5)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit", data=_edit_data(world, klass, capacity="1")
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).capacity == 1


@pytest.mark.parametrize(
    "full, half",
    [("6", "6.5"), ("", "9"), ("3", "")],
    ids=["both set", "full default 8", "half default 4"],
)
def test_half_day_above_full_day_rejected(world, login, english, full, half):
    klass = make_class(world)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, full_day_hours=full, half_day_hours=half),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="half_day_hours-error"' in page
    assert "A half day cannot earn more hours" in page
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).half_day_hours is None


def test_half_day_equal_to_full_day_accepted(world, login):
    klass = make_class(world)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, full_day_hours="4", half_day_hours="4"),
    )

    assert response.status_code == 302


def test_class_form_rejects_out_of_range_dates(world, login, english):
    trainer = login("trainer")

    response = trainer.post("/classes/new", data={
        "code": "2026-04-range",
        "title": "日期范围",
        "offering": f"p:{world.programme}",
        "starts_on": "0001-01-01",
        "ends_on": "9999-12-31",
        "enrolment_mode": "approval",
        "tier": "school",
        "kind": "demonstration",
        "half_day_hours": "3.5",
        "trainer_ids": [str(world.trainer)],
    })
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert 'id="starts_on-error">Start date: 0001-01-01 is not a plausible class date.' in page
    assert 'id="ends_on-error">End date: 9999-12-31 is not a plausible class date.' in page
    assert "Enter a date from 2000-01-01 to " in page
    assert "1900-01-01" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingClass)) == 0


@pytest.mark.parametrize(
    ("field", "label", "value"),
    [("starts_on", "Start date", "1999-12-31"), ("ends_on", "End date", "2099-09-30")],
)
def test_class_form_rejects_implausible_dates(world, login, english, field, label, value):
    trainer = login("trainer")
    data = {
        "code": "2026-04-plausible",
        "title": "日期合理性",
        "offering": f"p:{world.programme}",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-20",
        "enrolment_mode": "approval",
        "tier": "school",
        "kind": "demonstration",
        "half_day_hours": "3.5",
        "trainer_ids": [str(world.trainer)],
    }

    response = trainer.post("/classes/new", data={**data, field: value})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error">{label}: {value} is not a plausible class date.' in page
    assert "Enter a date from 2000-01-01 to " in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingClass)) == 0


def test_class_edit_keeps_old_start_date(world, login):
    klass = make_class(world)
    klass.starts_on = date(1999, 9, 1)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, starts_on="1999-09-01", title="改名的培训班"),
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).title == "改名的培训班"


def test_member_leave_line_uses_chinese_colon(app, seeded, login):
    from courses.classes import TrainingClass

    with app.app_context():
        class_id = db.session.scalar(
            sa.select(TrainingClass.id).filter_by(code="demo-intermediate-class")
        )

    page = login("counselor2").get(f"/classes/{class_id}").get_data(as_text=True)

    assert "<strong>我的请假</strong>：" in page


def test_one_hour_session_mark_singular(world, login, english):
    klass = make_class(world, full_day_hours="1")
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()
    login("trainer").post(
        f"/classes/{klass.id}/sessions/{session.id}/attendance",
        data={f"mark-{world.counselor}": "present"},
    )

    page = login("counselor1").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert "Present · 1 hour<" in page
