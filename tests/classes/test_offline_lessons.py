"""Offline lessons: completed by attendance marks, never by the learner."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments.models import Quiz
from certificates.models import Certificate
from courses import authoring, class_attendance, classes, services, versions
from courses.class_models import Attendance, AttendanceStatus, TrainingClass
from courses.models import (
    Course,
    CourseCompletion,
    Enrolment,
    Lesson,
    LessonKind,
    LessonProgress,
    Programme,
)
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world, correct_answers, finish_lesson

#: 学时 of course 1 and course 2 of the learning world, which make up its programme.
PROGRAMME_HOURS = Decimal("3.5")

REJECTED_ZH = "面授课节在培训师记录您的出勤后完成，不能在此标记为完成。"
REJECTED_EN = (
    "An offline lesson is completed when a trainer records your attendance at "
    "its session, so it cannot be marked as complete here."
)


@pytest.fixture
def world(app_ctx):
    """The learning world with course 1's second lesson offline and a class of the programme.

    The counselor is a member of the class, which enrols them in the programme.
    """
    world = build_learning_world()
    offline = db.session.get(Lesson, world.lessons1[1])
    offline.kind = LessonKind.OFFLINE
    offline.session_starts_at = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)
    offline.session_place = "行政楼201"
    world.offline = offline.id
    training_class = make_class(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    world.klass = training_class.id
    db.session.commit()
    return world


def _delivering_session(world):
    training_class = db.session.get(TrainingClass, world.klass)
    session = make_session(training_class, title="团体辅导工作坊")
    session.lesson_id = world.offline
    db.session.commit()
    return session


def _pass_quiz(counselor, world) -> None:
    quiz = db.session.get(Quiz, world.quiz)
    response = counselor.post(f"/quizzes/{quiz.id}/start")
    attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
    response = counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(quiz))
    assert response.status_code == 302


def _finish_all_but_offline(counselor, world) -> None:
    """Finish every requirement of the programme except the offline lesson."""
    for course_id, lesson_id in [
        (world.course1, world.lessons1[0]),
        (world.course2, world.lessons2[0]),
    ]:
        counselor.get(f"/courses/{course_id}/lessons/{lesson_id}")
        response = counselor.post(f"/courses/{course_id}/lessons/{lesson_id}/complete")
        assert response.status_code == 302
    _pass_quiz(counselor, world)


def _progress(user_id: int, lesson_id: int):
    return db.session.scalar(
        sa.select(LessonProgress).filter_by(user_id=user_id, lesson_id=lesson_id)
    )


def _completion(user_id: int, course_id: int):
    return db.session.scalar(
        sa.select(CourseCompletion).filter_by(user_id=user_id, course_id=course_id)
    )


def _ledger_total(user_id: int) -> Decimal:
    total = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.hours)).where(HoursEntry.user_id == user_id)
    )
    return Decimal(total or 0)


def _certificates(user_id: int) -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate).filter_by(holder_id=user_id)))


def _enrolment(world) -> Enrolment:
    return db.session.scalar(
        sa.select(Enrolment).filter_by(user_id=world.counselor, programme_id=world.programme)
    )


def _mark(world, session, status: AttendanceStatus) -> None:
    class_attendance.mark(session, user(world.counselor), status, user(world.trainer))
    db.session.commit()


# The learner cannot complete an offline lesson ----------------------------


def test_complete_endpoint_rejects_offline_lesson(world, login):
    counselor = login("counselor1")
    _finish_all_but_offline(counselor, world)
    url = f"/courses/{world.course1}/lessons/{world.offline}"

    response = counselor.post(f"{url}/complete")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(url)
    page = counselor.get(url).get_data(as_text=True)
    assert REJECTED_ZH in page
    assert _progress(world.counselor, world.offline) is None
    assert _completion(world.counselor, world.course1) is None
    assert _enrolment(world).completed_at is None
    assert _ledger_total(world.counselor) == Decimal("1.5")
    assert _certificates(world.counselor) == []


def test_complete_endpoint_rejection_in_english(world, login):
    counselor = login("counselor1")
    counselor.post("/language/en")
    url = f"/courses/{world.course1}/lessons/{world.offline}"

    counselor.post(f"{url}/complete")

    assert REJECTED_EN in counselor.get(url).get_data(as_text=True)
    assert _progress(world.counselor, world.offline) is None


def test_service_rejects_offline_lesson_without_attendance(world):
    lesson = db.session.get(Lesson, world.offline)

    with pytest.raises(services.AttendanceRequired):
        finish_lesson(user(world.counselor), lesson)

    assert _progress(world.counselor, world.offline) is None


def test_reading_lesson_still_completes(world, login):
    counselor = login("counselor1")
    counselor.get(f"/courses/{world.course1}/lessons/{world.lessons1[0]}")

    response = counselor.post(f"/courses/{world.course1}/lessons/{world.lessons1[0]}/complete")

    assert response.status_code == 302
    assert _progress(world.counselor, world.lessons1[0]) is not None
    assert "本课节已标记为完成" in counselor.get(response.headers["Location"]).get_data(
        as_text=True
    )


# The lesson page ------------------------------------------------------------


def test_offline_page_names_session_in_chinese(world, login):
    _delivering_session(world)
    counselor = login("counselor1")

    page = counselor.get(f"/courses/{world.course1}/lessons/{world.offline}").get_data(
        as_text=True
    )

    assert f"/lessons/{world.offline}/complete" not in page
    assert "标记为已完成" not in page
    assert "培训师记录您在面授中的出勤后，本课节即完成，不能在此标记为完成。" in page
    assert "团体辅导工作坊" in page
    assert "行政楼301" in page
    assert "2026年第3期 组织员示范培训班" in page
    assert "培训师：赵培训师" in page


def test_offline_page_names_session_in_english(world, login):
    _delivering_session(world)
    counselor = login("counselor1")
    counselor.post("/language/en")

    page = counselor.get(f"/courses/{world.course1}/lessons/{world.offline}").get_data(
        as_text=True
    )

    assert "Mark as complete" not in page
    assert (
        "A trainer completes this lesson when they record your attendance at its "
        "session. It cannot be marked as complete here."
    ) in page
    assert "Session 团体辅导工作坊 of the class 2026年第3期 组织员示范培训班" in page
    assert "行政楼301" in page
    assert "Trainers: 赵培训师" in page


def test_offline_page_without_session_names_class(world, login):
    counselor = login("counselor1")

    page = counselor.get(f"/courses/{world.course1}/lessons/{world.offline}").get_data(
        as_text=True
    )

    assert "您所在培训班尚未安排讲授本课节的面授场次，请向培训师询问时间。" in page
    assert "2026年第3期 组织员示范培训班" in page
    assert "赵培训师" in page
    assert "标记为已完成" not in page


def test_offline_page_without_class(world, login):
    services.enrol(user(world.counselor2), db.session.get(Programme, world.programme))
    db.session.commit()
    counselor2 = login("counselor2")
    counselor2.post("/language/en")

    page = counselor2.get(f"/courses/{world.course1}/lessons/{world.offline}").get_data(
        as_text=True
    )

    assert "You are not in a training class that delivers this lesson." in page
    assert "Mark as complete" not in page


def test_text_lesson_keeps_complete_button(world, login):
    page = login("counselor1").get(
        f"/courses/{world.course1}/lessons/{world.lessons1[0]}"
    ).get_data(as_text=True)

    assert f"/lessons/{world.lessons1[0]}/complete" in page


def test_authoring_page_explains_offline_completion(world, login):
    trainer = login("trainer")
    trainer.post("/language/en")

    page = trainer.get(f"/manage/courses/{world.course1}").get_data(as_text=True)

    assert "Completed through class attendance" in page
    assert "Learners cannot mark an offline lesson as complete." in page


# Attendance completes the lesson ---------------------------------------------


def test_present_mark_completes_programme(world, login):
    session = _delivering_session(world)
    _finish_all_but_offline(login("counselor1"), world)
    trainer = login("trainer")

    response = trainer.post(
        f"/classes/{world.klass}/sessions/{session.id}/attendance",
        data={f"mark-{world.counselor}": "present"},
    )

    assert response.status_code == 302
    assert _progress(world.counselor, world.offline) is not None
    assert _completion(world.counselor, world.course1) is not None
    assert _enrolment(world).completed_at is not None
    [certificate] = _certificates(world.counselor)
    assert certificate.hours == PROGRAMME_HOURS


def test_present_mark_notifies_certificate(world, login):
    session = _delivering_session(world)
    counselor = login("counselor1")
    _finish_all_but_offline(counselor, world)
    trainer = login("trainer")

    trainer.post(
        f"/classes/{world.klass}/sessions/{session.id}/attendance",
        data={f"mark-{world.counselor}": "present"},
    )

    [certificate] = _certificates(world.counselor)
    counselor = login("counselor1")
    page = counselor.get("/notifications").get_data(as_text=True)
    assert f"您的证书 {certificate.serial} 已颁发" in page
    note_id = re.search(r'id="notification-(\d+)"', page).group(1)
    opened = counselor.post(f"/notifications/{note_id}/read", data={"open": "1"})
    assert opened.headers["Location"] == f"/certificates/{certificate.serial}"


def test_present_mark_credits_hours_once(world, login):
    session = _delivering_session(world)
    _finish_all_but_offline(login("counselor1"), world)

    _mark(world, session, AttendanceStatus.PRESENT)

    attendance = db.session.scalar(sa.select(Attendance).filter_by(session_id=session.id))
    assert attendance.credited_hours == 0
    session_rows = db.session.scalars(
        sa.select(HoursEntry).filter_by(user_id=world.counselor, source_type="class_session")
    ).all()
    assert session_rows == []
    assert _ledger_total(world.counselor) == PROGRAMME_HOURS


def test_late_mark_completes_lesson(world):
    session = _delivering_session(world)

    _mark(world, session, AttendanceStatus.LATE)

    assert _progress(world.counselor, world.offline) is not None


@pytest.mark.parametrize("status", [AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED])
def test_missed_session_does_not_complete_lesson(world, status):
    session = _delivering_session(world)

    _mark(world, session, status)

    assert _progress(world.counselor, world.offline) is None
    assert _ledger_total(world.counselor) == 0


def test_absent_after_present_removes_lesson(world):
    session = _delivering_session(world)
    _mark(world, session, AttendanceStatus.PRESENT)

    _mark(world, session, AttendanceStatus.ABSENT)

    assert _progress(world.counselor, world.offline) is None


def test_absent_removes_lesson_marked_by_learner(world):
    session = _delivering_session(world)
    db.session.add(LessonProgress(user_id=world.counselor, lesson_id=world.offline))
    db.session.commit()

    _mark(world, session, AttendanceStatus.ABSENT)

    assert _progress(world.counselor, world.offline) is None


def test_absent_after_completion_keeps_certificate(world, login):
    session = _delivering_session(world)
    _finish_all_but_offline(login("counselor1"), world)
    _mark(world, session, AttendanceStatus.PRESENT)

    _mark(world, session, AttendanceStatus.ABSENT)

    assert _progress(world.counselor, world.offline) is not None
    assert _completion(world.counselor, world.course1) is not None
    assert len(_certificates(world.counselor)) == 1
    assert _ledger_total(world.counselor) == PROGRAMME_HOURS


def test_absent_keeps_lesson_attended_elsewhere(world):
    first = _delivering_session(world)
    training_class = db.session.get(TrainingClass, world.klass)
    second = make_session(training_class, title="团体辅导工作坊（补课）")
    second.lesson_id = world.offline
    db.session.commit()
    _mark(world, first, AttendanceStatus.PRESENT)

    _mark(world, second, AttendanceStatus.ABSENT)

    assert _progress(world.counselor, world.offline) is not None


def test_lesson_linked_after_marks_completes(world):
    training_class = db.session.get(TrainingClass, world.klass)
    session = make_session(training_class)
    _mark(world, session, AttendanceStatus.PRESENT)
    assert _ledger_total(world.counselor) == Decimal(8)

    class_attendance.update_session(
        session,
        {
            "title": session.title,
            "held_on": session.held_on.isoformat(),
            "length": session.length.value,
            "lesson_id": str(world.offline),
        },
        user(world.trainer),
    )
    db.session.commit()

    assert _progress(world.counselor, world.offline) is not None
    assert _ledger_total(world.counselor) == 0


def test_lesson_session_hours_come_with_course(world, login):
    session = _delivering_session(world)
    _mark(world, session, AttendanceStatus.PRESENT)
    counselor, trainer = login("counselor1"), login("trainer")
    counselor.post("/language/en")
    trainer.post("/language/en")

    detail = counselor.get(f"/classes/{world.klass}").get_data(as_text=True)
    sheet = trainer.get(
        f"/classes/{world.klass}/sessions/{session.id}/attendance"
    ).get_data(as_text=True)

    assert "Present · Hours credited with the course" in detail
    assert "Present · 0 hours" not in detail
    assert "earns no hours of its own: they are credited when the course is completed" in detail
    assert '团体辅导工作坊 <span class="muted">(c1 第2课)</span>' in detail
    assert "<td>with the course</td>" in sheet


def test_session_named_like_lesson_once(world, login):
    session = _delivering_session(world)
    session.title = db.session.get(Lesson, world.offline).title
    db.session.commit()

    detail = login("counselor1").get(f"/classes/{world.klass}").get_data(as_text=True)

    assert f"<td>{session.title}</td>" in detail


# Learners who keep an earlier version of the course ---------------------------


def _publish_new_version(world) -> Lesson:
    """Publish version 2 of course 1 and return its copy of the offline lesson.

    The counselor, already enrolled, keeps version 1.
    """
    trainer = user(world.trainer)
    version2 = versions.new_version(db.session.get(Course, world.course1), trainer)
    authoring.publish_course(version2, trainer)
    db.session.commit()
    return next(each for each in version2.lessons if each.kind is LessonKind.OFFLINE)


def _session_of_lesson(world, lesson: Lesson):
    training_class = db.session.get(TrainingClass, world.klass)
    session = make_session(training_class, title="团体辅导工作坊")
    session.lesson_id = lesson.id
    db.session.commit()
    return session


def test_new_version_session_completes_old_lesson(world, login):
    _finish_all_but_offline(login("counselor1"), world)
    session = _session_of_lesson(world, _publish_new_version(world))
    trainer = login("trainer")

    response = trainer.post(
        f"/classes/{world.klass}/sessions/{session.id}/attendance",
        data={f"mark-{world.counselor}": "present"},
    )

    assert response.status_code == 302
    assert _progress(world.counselor, world.offline) is not None
    assert _completion(world.counselor, world.course1) is not None
    assert _enrolment(world).completed_at is not None


def test_new_version_session_shown_on_old_lesson(world, login):
    _session_of_lesson(world, _publish_new_version(world))
    counselor = login("counselor1")

    page = counselor.get(f"/courses/{world.course1}/lessons/{world.offline}").get_data(
        as_text=True
    )

    assert "团体辅导工作坊" in page
    assert "您所在培训班尚未安排讲授本课节的面授场次" not in page


def test_new_version_absent_removes_old_lesson(world):
    session = _session_of_lesson(world, _publish_new_version(world))
    _mark(world, session, AttendanceStatus.PRESENT)
    assert _progress(world.counselor, world.offline) is not None

    _mark(world, session, AttendanceStatus.ABSENT)

    assert _progress(world.counselor, world.offline) is None


def test_renamed_lesson_matches_only_offline_lesson(world):
    new_lesson = _publish_new_version(world)
    new_lesson.title = "团体辅导工作坊（修订）"
    session = _session_of_lesson(world, new_lesson)

    _mark(world, session, AttendanceStatus.PRESENT)

    assert _progress(world.counselor, world.offline) is not None
