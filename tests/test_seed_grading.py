"""Demo seed: an essay answer of counselor2 waits in the trainer's grading queue."""

import re

import sqlalchemy as sa

from assessments.models import Attempt, AttemptAnswer, QuestionKind, Quiz
from courses.models import Course, CourseCompletion, Enrolment, Programme
from lms.accounts.models import User
from lms.extensions import db
from lms.records.models import HoursEntry
from lms.seed import seed_demo
from tests.conftest import demo_row


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _essay_attempts() -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .join(Course, Course.id == Quiz.course_id)
            .where(Course.code == "case-writing")
        )
    )


def test_essay_attempt_awaits_grading(app_ctx, seeded):
    counselor = _user("counselor2")
    [attempt] = _essay_attempts()
    [answer] = attempt.answers
    course = attempt.quiz.course

    assert attempt.user_id == counselor.id
    assert attempt.submitted_at is not None
    assert attempt.started_at < attempt.submitted_at
    assert attempt.needs_grading
    assert not attempt.passed
    assert answer.question.kind is QuestionKind.ESSAY
    assert answer.response.startswith("情境：")
    assert answer.awarded is None
    assert course.author_id == _user("trainer").id
    programme = demo_row(Programme, code="case-study-2026")
    enrolment = db.session.scalar(
        sa.select(Enrolment).filter_by(user_id=counselor.id, programme_id=programme.id)
    )
    assert enrolment is not None
    assert enrolment.completed_at is None
    completion = db.session.scalar(
        sa.select(CourseCompletion).filter_by(user_id=counselor.id, course_id=course.id)
    )
    assert completion is None
    credited = db.session.scalar(
        sa.select(HoursEntry).filter_by(
            user_id=counselor.id, training_type="programme", training_id=programme.id
        )
    )
    assert credited is None


def test_trainer_sees_essay_in_queue(app, seeded, login):
    with app.app_context():
        [attempt] = _essay_attempts()
        [answer] = attempt.answers
        answer_id = answer.id

    page = login("trainer").get("/manage/grading").get_data(as_text=True)

    assert f"/manage/grading/{answer_id}" in page
    assert "案例分析论述" in page


def test_trainer_grades_seeded_essay(app, seeded, login):
    with app.app_context():
        [attempt] = _essay_attempts()
        [answer] = attempt.answers
        answer_id, attempt_id = answer.id, attempt.id
    trainer = login("trainer")
    page = trainer.get(f"/manage/grading/{answer_id}").get_data(as_text=True)
    version = re.search(r'name="grade_version" value="([^"]*)"', page)

    response = trainer.post(
        f"/manage/grading/{answer_id}",
        data={
            "point_1": "2",
            "point_2": "2.5",
            "point_3": "2",
            "point_4": "1.5",
            "comment": "结构完整，分析有依据。",
            "grade_version": version.group(1) if version else "",
        },
    )

    assert response.status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert not attempt.needs_grading
        assert attempt.passed
        assert db.session.get(AttemptAnswer, answer_id).awarded == 8


def test_seed_twice_keeps_one_essay_attempt(app_ctx):
    seed_demo()
    db.session.commit()

    seed_demo()
    db.session.commit()

    assert len(_essay_attempts()) == 1


def test_essay_course_is_in_demo_university(app_ctx, seeded):
    assert demo_row(Course, code="case-writing") is not None
