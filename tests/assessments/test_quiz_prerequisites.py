"""A quiz of a course whose prerequisite courses are incomplete cannot be started."""

import pytest
import sqlalchemy as sa

from assessments import services
from assessments.models import Attempt, Quiz
from courses import services as course_services
from courses.models import Lesson, Programme
from lms.accounts.models import User
from lms.extensions import db
from tests.conftest import count
from tests.factories import finish_lesson


@pytest.fixture
def locked_world(world):
    """Make course 2 a prerequisite of course 1 (the one with the quiz) and enrol counselor1."""
    programme = db.session.get(Programme, world.programme)
    first, second = programme.courses
    first.prerequisites.append(second)
    course_services.enrol(db.session.get(User, world.counselor), programme)
    db.session.commit()
    return world


def _complete_course2(world) -> None:
    learner = db.session.get(User, world.counselor)
    for lesson_id in world.lessons2:
        finish_lesson(learner, db.session.get(Lesson, lesson_id))
    db.session.commit()


def test_start_rejected_until_prerequisite_done(locked_world):
    learner = db.session.get(User, locked_world.counselor)
    quiz = db.session.get(Quiz, locked_world.quiz)

    with pytest.raises(services.AttemptError) as caught:
        services.start_attempt(learner, quiz)

    assert caught.value.code == "locked"
    assert count(Attempt) == 0

    _complete_course2(locked_world)
    attempt = services.start_attempt(learner, quiz)

    assert attempt.number == 1


def test_quiz_page_names_missing_course(locked_world, login):
    session = login("counselor1")
    session.post("/language/en")

    page = session.get(f"/quizzes/{locked_world.quiz}").get_data(as_text=True)
    start = session.post(f"/quizzes/{locked_world.quiz}/start", follow_redirects=True)

    assert "Complete 学生资助政策 before taking this quiz." in page
    assert f'action="/quizzes/{locked_world.quiz}/start"' not in page
    assert "Complete 学生资助政策 before taking this quiz." in start.get_data(as_text=True)
    assert count(Attempt) == 0


def test_quiz_page_offers_start_once_unlocked(locked_world, login):
    _complete_course2(locked_world)
    session = login("counselor1")

    page = session.get(f"/quizzes/{locked_world.quiz}").get_data(as_text=True)
    start = session.post(f"/quizzes/{locked_world.quiz}/start")

    assert f'action="/quizzes/{locked_world.quiz}/start"' in page
    assert start.status_code == 302
    assert "/attempts/" in start.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1
