"""Lost-update protection of programmes, courses, lessons, quizzes and questions."""

import pytest
import sqlalchemy as sa

from assessments.models import Question, Quiz
from courses.models import Course, Lesson, Programme, PublicationStatus
from lms.accounts.models import User
from lms.extensions import db
from tests.conftest import demo_row
from tests.revisions.forms import text_of


@pytest.fixture
def draft(app, seeded):
    """Put the demo university's first programme and course back in draft.

    The demo trainer becomes the author of both, so may change them.
    """
    with app.app_context():
        programme = demo_row(Programme, code="junior-prejob-2026")
        course = demo_row(Course, code="mental-health-practice")
        programme.status = PublicationStatus.DRAFT
        programme.author_id = demo_row(User, username="trainer").id
        course.status = PublicationStatus.DRAFT
        course.author_id = programme.author_id
        db.session.commit()
        quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == course.id))
        lesson = db.session.scalar(
            sa.select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.id)
        )
        question = db.session.scalar(
            sa.select(Question).where(Question.quiz_id == quiz.id).order_by(Question.id)
        )
        return {
            "programme": programme.id,
            "course": course.id,
            "lesson": lesson.id,
            "quiz": quiz.id,
            "question": question.id,
        }


def test_stale_programme_save_rejected(app, race, draft):
    edit = race(f"/manage/programmes/{draft['programme']}", "admin", "trainer")
    edit.first_saves(title="甲改过的项目名称")
    html = edit.second_saves(summary="乙写的项目简介")

    assert "甲改过的项目名称" in text_of(html)
    with app.app_context():
        programme = db.session.get(Programme, draft["programme"])
        assert programme.title == "甲改过的项目名称"
        assert programme.summary != "乙写的项目简介"
    edit.second_saves_again()


def test_stale_course_save_rejected(app, race, draft):
    edit = race(f"/manage/courses/{draft['course']}", "trainer", "admin")
    edit.first_saves(title="甲改过的课程名称")
    edit.second_saves(summary="乙写的课程简介")

    with app.app_context():
        course = db.session.get(Course, draft["course"])
        assert course.title == "甲改过的课程名称"
        assert course.summary != "乙写的课程简介"
    edit.second_saves_again()


def test_stale_lesson_save_rejected(app, race, draft):
    url = f"/manage/courses/{draft['course']}/lessons/{draft['lesson']}"
    edit = race(url, "trainer", "admin")
    edit.first_saves(title="甲改过的课时名称")
    edit.second_saves(duration_minutes="50")

    with app.app_context():
        lesson = db.session.get(Lesson, draft["lesson"])
        assert lesson.title == "甲改过的课时名称"
        assert lesson.duration_minutes != 50


def test_stale_quiz_save_rejected(app, race, draft):
    edit = race(f"/manage/quizzes/{draft['quiz']}", "trainer", "admin")
    edit.first_saves(pass_mark="70")
    edit.second_saves(title="乙改过的测验名称")

    with app.app_context():
        quiz = db.session.get(Quiz, draft["quiz"])
        assert quiz.pass_mark == 70
        assert quiz.title != "乙改过的测验名称"


def test_choice_change_rejects_stale_question(app, race, draft):
    url = f"/manage/quizzes/{draft['quiz']}/questions/{draft['question']}"
    edit = race(url, "trainer", "admin")
    edit.first_saves(choice_1="甲改过的选项")
    edit.second_saves(explanation="乙写的解析")

    with app.app_context():
        question = db.session.get(Question, draft["question"])
        assert question.choices[0].text == "甲改过的选项"
        assert question.explanation != "乙写的解析"
    edit.second_saves_again()


def test_stale_bank_question_save_rejected(app, race):
    with app.app_context():
        question = db.session.scalar(
            sa.select(Question)
            .where(Question.category_id.is_not(None))
            .order_by(Question.id)
        )
        url = f"/manage/banks/{question.category.bank_id}/questions/{question.id}"
        question_id = question.id

    edit = race(url, "trainer", "admin")
    edit.first_saves(text="甲改过的题干")
    html = edit.second_saves(explanation="乙写的解析")

    assert "甲改过的题干" in text_of(html)
    with app.app_context():
        question = db.session.get(Question, question_id)
        assert question.text == "甲改过的题干"
        assert question.explanation != "乙写的解析"
    edit.second_saves_again()
