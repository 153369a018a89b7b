"""Random draws from a category and from one of its subcategories."""

import random

import pytest
import sqlalchemy as sa

from assessments import authoring, banks, services
from assessments.models import Question, Quiz, QuizDraw
from courses import versions
from courses.models import Course
from lms.accounts.models import User
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("english")


def _question(category, text, trainer):
    banks.save_bank_question(
        category,
        {
            "kind": "single",
            "text": text,
            "points": "1",
            "choice_1": "甲",
            "choice_2": "乙",
            "correct_1": "1",
        },
        trainer,
    )


@pytest.fixture
def nested(world):
    """Return a draft quiz, a top category with 2 questions, its child with 4, and the author."""
    trainer = db.session.get(User, world.trainer)
    bank = banks.create_bank(world.uni_a, {"name": "职责题库"}, trainer)
    top = bank.categories[0]
    child = banks.create_category(bank, {"name": "工作职责", "parent_id": str(top.id)}, trainer)
    for number in range(2):
        _question(top, f"总则{number}", trainer)
    for number in range(4):
        _question(child, f"职责{number}", trainer)
    draft = versions.new_version(db.session.get(Course, world.course1), trainer)
    quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == draft.id))
    db.session.commit()
    return quiz, top, child, trainer


def test_wide_draw_first_leaves_narrow_draw_enough(nested):
    quiz, top, child, trainer = nested
    authoring.save_draw(quiz, top, {"count": "3", "include_subcategories": "y"}, trainer)
    authoring.save_draw(quiz, child, {"count": "3"}, trainer)
    child_ids = set(db.session.scalars(sa.select(Question.id).filter_by(category_id=child.id)))
    fixed = len(quiz.questions)

    for seed in range(40):
        drawn = [q.id for q in services.draw_questions(quiz, random.Random(seed))][fixed:]

        assert len(set(drawn)) == 6
        assert len(child_ids & set(drawn)) >= 3


def test_overlapping_draws_beyond_pool_rejected(nested, login):
    quiz, top, child, trainer = nested
    authoring.save_draw(quiz, top, {"count": "4", "include_subcategories": "y"}, trainer)
    db.session.commit()

    response = login("trainer").post(
        f"/manage/quizzes/{quiz.id}/draws",
        data={"category_id": str(child.id), "count": "3"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Number of questions: " in page
    assert "职责题库 / 工作职责" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizDraw)) == 1


def test_publish_check_counts_overlapping_draws(nested):
    quiz, top, child, trainer = nested
    quiz.draws.append(QuizDraw(category_id=top.id, count=4, include_subcategories=True))
    quiz.draws.append(QuizDraw(category_id=child.id, count=3, include_subcategories=True))
    db.session.flush()

    problems = authoring.quiz_problems(quiz.course)

    assert any("which has 3 left after the quiz's other draws" in str(p) for p in problems)


@pytest.fixture
def one_question(nested):
    """Return the draft quiz, an empty category and its child with one question."""
    quiz, top, child, trainer = nested
    bank = top.bank
    outer = banks.create_category(bank, {"name": "案例", "parent_id": str(top.id)}, trainer)
    inner = banks.create_category(bank, {"name": "单题", "parent_id": str(outer.id)}, trainer)
    _question(inner, "唯一", trainer)
    db.session.commit()
    return quiz, outer, inner, trainer


def test_draw_beyond_one_question_singular(one_question):
    quiz, outer, inner, trainer = one_question

    with pytest.raises(authoring.AuthoringError) as raised:
        authoring.save_draw(quiz, inner, {"count": "2"}, trainer)

    assert str(raised.value.errors["count"]).startswith(
        f"The category {inner.path} has 1 question; draw at most that many."
    )


def test_publish_check_one_drawn_question_singular(one_question):
    quiz, outer, inner, trainer = one_question
    quiz.draws.append(QuizDraw(category_id=inner.id, count=1))
    quiz.draws.append(QuizDraw(category_id=outer.id, count=1, include_subcategories=True))
    db.session.flush()

    problems = [str(problem) for problem in authoring.quiz_problems(quiz.course)]

    assert (
        f"The quiz {quiz.title} draws 1 question from {outer.path},"
        " which has 0 left after the quiz's other draws." in problems
    )


def test_short_published_draw_of_one_singular(one_question):
    quiz, outer, inner, trainer = one_question
    published = db.session.get(Course, quiz.course.previous_version_id)
    published_quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=published.id))
    published_quiz.draws.append(
        QuizDraw(category_id=outer.id, count=1, include_subcategories=False)
    )
    db.session.flush()

    with pytest.raises(authoring.AuthoringError) as raised:
        banks.reject_short_draws(outer.bank, set())

    assert (
        f"The quiz {published_quiz.title} of the published course {published.title}"
        f" draws 1 question from {outer.path}, which would have 0 left"
    ) in str(raised.value.errors["form"])
