"""A lesson is completed by hand only after a share of its duration has passed."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import lesson_time, services
from courses.models import Course, Lesson, LessonKind, LessonProgress, LessonView, Programme
from lms.accounts.models import User
from lms.config import _env_share
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.conftest import count, demo_row


@pytest.fixture
def half_share(app, monkeypatch):
    """Require half of each lesson's duration, the default outside the tests."""
    monkeypatch.setitem(app.config, "LESSON_MIN_TIME_SHARE", Decimal("0.5"))


def _backdate(user_id: int, lesson_id: int, minutes: int) -> None:
    view = db.session.scalar(sa.select(LessonView).filter_by(user_id=user_id, lesson_id=lesson_id))
    view.first_viewed_at = view.first_viewed_at - timedelta(minutes=minutes)
    db.session.commit()


def _enrolled(login, world):
    counselor = login("counselor1")
    counselor.post(f"/programmes/{world.programme}/enrol")
    return counselor


def test_unopened_lesson_cannot_be_completed(world, login, english):
    counselor = _enrolled(login, world)
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"

    response = counselor.post(f"{url}/complete")
    page = counselor.get(url).get_data(as_text=True)

    assert response.headers["Location"].endswith(url)
    assert "Open the lesson and study it before marking it as complete." in page
    assert count(LessonProgress) == 0


def test_instant_completion_is_rejected(world, login, english, half_share):
    counselor = _enrolled(login, world)
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"
    counselor.get(url)

    counselor.post(f"{url}/complete")
    page = counselor.get(url).get_data(as_text=True)

    assert "This lesson is planned for 30 minutes." in page
    assert "15 minutes after you first opened it, so in 15 more minutes." in page
    assert count(LessonProgress) == 0


def test_message_counts_down_from_first_view(world, login, english, half_share):
    counselor = _enrolled(login, world)
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"
    counselor.get(url)
    _backdate(world.counselor, world.lessons1[0], 10)

    counselor.post(f"{url}/complete")
    page = counselor.get(url).get_data(as_text=True)

    assert "so in 5 more minutes." in page
    assert count(LessonProgress) == 0


def test_completion_after_minimum_time(world, login, half_share):
    counselor = _enrolled(login, world)
    url = f"/courses/{world.course2}/lessons/{world.lessons2[0]}"
    counselor.get(url)
    _backdate(world.counselor, world.lessons2[0], 15)

    response = counselor.post(f"{url}/complete")

    assert response.status_code == 302
    assert count(LessonProgress) == 1
    assert db.session.scalar(sa.select(sa.func.sum(HoursEntry.hours))) == Decimal("1.5")


def test_lesson_page_shows_time_left(world, login, english, half_share):
    counselor = _enrolled(login, world)
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"

    page = counselor.get(url).get_data(as_text=True)

    assert "You can mark this lesson as complete in about 15 minutes" in page


def test_reopening_keeps_first_view(world, login):
    counselor = _enrolled(login, world)
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"
    counselor.get(url)
    _backdate(world.counselor, world.lessons1[0], 20)
    first = db.session.scalar(sa.select(LessonView.first_viewed_at))

    counselor.get(url)

    db.session.expire_all()
    assert count(LessonView) == 1
    assert db.session.scalar(sa.select(LessonView.first_viewed_at)) == first


def test_staff_opening_records_no_view(world, login):
    login("trainer").get(f"/courses/{world.course1}/lessons/{world.lessons1[0]}")

    assert count(LessonView) == 0


def test_attended_offline_lesson_is_not_timed(world, half_share):
    learner = db.session.get(User, world.counselor)
    lesson = db.session.get(Lesson, world.lessons2[0])
    lesson.kind = LessonKind.OFFLINE
    db.session.flush()

    services.complete_lesson(learner, lesson, attended=True)

    assert count(LessonProgress) == 1


def test_service_rejects_early_completion(world, half_share):
    learner = db.session.get(User, world.counselor)
    course = db.session.get(Course, world.course2)
    services.enrol(learner, db.session.get(Programme, world.programme))
    lesson = course.lessons[0]
    lesson_time.record_first_view(learner, lesson, None)

    with pytest.raises(lesson_time.LessonTooEarly) as error:
        services.complete_lesson(learner, lesson)

    assert error.value.minimum == timedelta(minutes=15)
    assert error.value.remaining_minutes == 15


def test_demo_reading_lessons_need_45_minutes(app_ctx, seeded, login, english, half_share):
    counselor = login("counselor2")
    programme = demo_row(Programme, code="intermediate-upgrade-2026")
    course = programme.courses[0].course
    readings = [each for each in course.lessons if each.kind is LessonKind.TEXT]
    assert readings

    for lesson in readings:
        url = f"/courses/{course.id}/lessons/{lesson.id}"
        counselor.get(url)
        counselor.post(f"{url}/complete")
        page = counselor.get(url).get_data(as_text=True)
        assert f"This lesson is planned for {lesson.duration_minutes} minutes." in page

    assert lesson_time.minimum_time(readings[0]) == timedelta(
        minutes=readings[0].duration_minutes / 2
    )
    assert count(LessonProgress) == 0


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "half", "NaN"])
def test_share_setting_rejects_bad_values(monkeypatch, raw):
    monkeypatch.setenv("LMS_LESSON_MIN_TIME_SHARE", raw)

    with pytest.raises(ValueError, match="LMS_LESSON_MIN_TIME_SHARE must be a number from 0 to 1"):
        _env_share("LMS_LESSON_MIN_TIME_SHARE", "0.5")


def test_share_setting_default(monkeypatch):
    monkeypatch.delenv("LMS_LESSON_MIN_TIME_SHARE", raising=False)

    assert _env_share("LMS_LESSON_MIN_TIME_SHARE", "0.5") == Decimal("0.5")
