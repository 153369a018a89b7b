"""A class credits a person at most one full day of 学时 per date."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import class_attendance, class_days, classes
from courses.authoring import AuthoringError
from courses.class_models import AttendanceStatus, ClassSession, SessionLength
from courses.models import Lesson, LessonKind
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world

DAY = date(2026, 9, 5)


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def enrolled(world):
    training_class = make_class(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    return training_class


def _form(length: str = "full_day", held_on: date = DAY, **extra) -> dict:
    return {"title": "开班式", "held_on": held_on.isoformat(), "length": length, **extra}


def _net(user_id: int) -> Decimal:
    hours = db.session.scalars(sa.select(HoursEntry.hours).filter_by(user_id=user_id))
    return sum(hours, Decimal(0))


def _sessions_on(class_id: int, day: date) -> list[ClassSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(ClassSession).filter_by(class_id=class_id, held_on=day))
    )


def test_same_session_posted_twice_is_rejected(world, enrolled, login, english):
    db.session.commit()
    trainer = login("trainer")
    url = f"/classes/{enrolled.id}/sessions"

    trainer.post(url, data=_form(), follow_redirects=True)
    response = trainer.post(url, data=_form(), follow_redirects=True)

    page = response.get_data(as_text=True)
    assert len(_sessions_on(enrolled.id, DAY)) == 1
    assert "Session added." not in page
    assert "Date: 2026-09-05 already has 开班式 (Full day) in this class" in page
    assert "Date: Date:" not in page
    assert "Choose another date." in page


def test_day_limit_labels_date_once(world, enrolled, login):
    db.session.commit()
    trainer = login("trainer")
    url = f"/classes/{enrolled.id}/sessions"

    trainer.post(url, data=_form(), follow_redirects=True)
    response = trainer.post(url, data=_form(), follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "日期：本班2026年9月5日已有" in page
    assert "日期：日期：" not in page


def test_day_limit_lists_sessions_in_chinese(world, enrolled, login):
    make_session(enrolled, held_on=DAY, title="开班式", length=SessionLength.HALF_DAY)
    make_session(enrolled, held_on=DAY, title="讲座", length=SessionLength.HALF_DAY)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{enrolled.id}/sessions", data=_form(length="half_day", title="研讨")
    )

    page = response.get_data(as_text=True)
    assert "本班2026年9月5日已有开班式（半天）、讲座（半天）" in page


def test_edit_session_names_day(world, enrolled, login, english):
    make_session(enrolled, held_on=DAY, title="开班式")
    other = make_session(enrolled, held_on=date(2026, 9, 6), title="讲座")
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{enrolled.id}/sessions/{other.id}/edit",
        data=_form(title="讲座"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "2026-09-05 already has 开班式 (Full day) in this class" in page


def test_second_half_day_is_accepted(world, enrolled):
    trainer = user(world.trainer)

    class_attendance.add_session(enrolled, _form("half_day"), trainer)
    class_attendance.add_session(enrolled, _form("half_day", title="分组研讨"), trainer)

    assert len(_sessions_on(enrolled.id, DAY)) == 2


def test_third_half_day_is_rejected(world, enrolled):
    trainer = user(world.trainer)
    class_attendance.add_session(enrolled, _form("half_day"), trainer)
    class_attendance.add_session(enrolled, _form("half_day", title="分组研讨"), trainer)

    with pytest.raises(AuthoringError) as raised:
        class_attendance.add_session(enrolled, _form("half_day", title="总结"), trainer)

    assert set(raised.value.errors) == {"held_on"}
    assert "开班式" in raised.value.errors["held_on"]
    assert "分组研讨" in raised.value.errors["held_on"]


def test_full_day_beside_half_day_suggests_half(world, enrolled, english):
    trainer = user(world.trainer)
    class_attendance.add_session(enrolled, _form("half_day"), trainer)

    with pytest.raises(AuthoringError) as raised:
        class_attendance.add_session(enrolled, _form("full_day", title="讲座"), trainer)

    assert "make this session a half day" in raised.value.errors["held_on"]


def test_offline_lesson_sessions_do_not_count(world, enrolled):
    lesson = db.session.get(Lesson, world.lessons1[1])
    lesson.kind = LessonKind.OFFLINE
    trainer = user(world.trainer)
    class_attendance.add_session(enrolled, _form(), trainer)

    class_attendance.add_session(
        enrolled, _form(title="团体辅导工作坊", lesson_id=str(lesson.id)), trainer
    )

    assert len(_sessions_on(enrolled.id, DAY)) == 2


def test_edit_onto_full_date_is_rejected(world, enrolled, login, english):
    make_session(enrolled, held_on=DAY, title="开班式")
    other = make_session(enrolled, held_on=date(2026, 9, 6), title="讲座")
    db.session.commit()
    url = f"/classes/{enrolled.id}/sessions/{other.id}/edit"

    response = login("trainer").post(url, data=_form(title="讲座"))

    assert response.status_code == 400
    assert "already has 开班式 (Full day)" in response.get_data(as_text=True)
    assert len(_sessions_on(enrolled.id, DAY)) == 1


def test_edit_keeps_own_date(world, enrolled):
    session = make_session(enrolled, held_on=DAY)

    class_attendance.update_session(session, _form("full_day", place="礼堂"), user(world.trainer))

    assert session.place == "礼堂"


def test_duplicate_sessions_credit_one_full_day(world, enrolled):
    first = make_session(enrolled, held_on=DAY)
    second = make_session(enrolled, held_on=DAY)
    counselor, trainer = user(world.counselor), user(world.trainer)

    class_attendance.mark(first, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(second, counselor, AttendanceStatus.PRESENT, trainer)

    assert _net(world.counselor) == Decimal(8)
    assert classes.hours_for(enrolled, SessionLength.FULL_DAY) == Decimal(8)


def test_duplicate_credit_moves_when_mark_drops(world, enrolled):
    first = make_session(enrolled, held_on=DAY)
    second = make_session(enrolled, held_on=DAY)
    counselor, trainer = user(world.counselor), user(world.trainer)
    class_attendance.mark(first, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(second, counselor, AttendanceStatus.PRESENT, trainer)

    class_attendance.mark(first, counselor, AttendanceStatus.ABSENT, trainer)

    assert _net(world.counselor) == Decimal(8)
    marks = class_attendance.marks_of(counselor, enrolled)
    assert marks[first.id].credited_hours == 0
    assert marks[second.id].credited_hours == Decimal(8)


def test_over_credited_date_is_corrected_on_remark(world, enrolled, monkeypatch):
    first = make_session(enrolled, held_on=DAY)
    second = make_session(enrolled, held_on=DAY)
    counselor, trainer = user(world.counselor), user(world.trainer)
    with monkeypatch.context() as patched:
        patched.setattr(class_days, "day_allowance", lambda attendance: Decimal(99))
        class_attendance.mark(first, counselor, AttendanceStatus.PRESENT, trainer)
        class_attendance.mark(second, counselor, AttendanceStatus.PRESENT, trainer)
    assert _net(world.counselor) == Decimal(16)

    class_attendance.mark(second, counselor, AttendanceStatus.PRESENT, trainer)

    assert _net(world.counselor) == Decimal(8)


def test_two_half_days_credit_at_most_full_day(world):
    training_class = make_class(world, full_day_hours="6", half_day_hours="4")
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    morning = make_session(training_class, DAY, SessionLength.HALF_DAY, "上午")
    afternoon = make_session(training_class, DAY, SessionLength.HALF_DAY, "下午")
    counselor, trainer = user(world.counselor), user(world.trainer)

    class_attendance.mark(morning, counselor, AttendanceStatus.PRESENT, trainer)
    class_attendance.mark(afternoon, counselor, AttendanceStatus.PRESENT, trainer)

    assert _net(world.counselor) == Decimal(6)
