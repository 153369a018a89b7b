"""Bank changes that would leave a published quiz's random draw short are rejected.

A quiz draws its random questions when an attempt starts, so a category with
fewer questions than a draw takes stops every learner from starting the quiz.
"""

import pytest
import sqlalchemy as sa

from assessments import authoring, banks
from assessments.models import Question, Quiz
from courses import authoring as course_authoring
from courses import versions
from courses.models import Course
from lms.accounts.models import User
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("english")


def _question(category, text, trainer):
    return banks.save_bank_question(
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


class Drawn:
    """A published quiz that draws all 3 questions below ``category``."""

    def __init__(self, world):
        self.trainer = db.session.get(User, world.trainer)
        self.bank = banks.create_bank(world.uni_a, {"name": "职责题库"}, self.trainer)
        self.top = self.bank.categories[0]
        self.category = banks.create_category(
            self.bank, {"name": "工作职责", "parent_id": str(self.top.id)}, self.trainer
        )
        self.child = banks.create_category(
            self.bank, {"name": "谈心谈话", "parent_id": str(self.category.id)}, self.trainer
        )
        _question(self.category, "职责0", self.trainer)
        _question(self.category, "职责1", self.trainer)
        _question(self.child, "谈话0", self.trainer)
        draft = versions.new_version(db.session.get(Course, world.course1), self.trainer)
        self.quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == draft.id))
        authoring.save_draw(
            self.quiz, self.category, {"count": "3", "include_subcategories": "y"}, self.trainer
        )
        course_authoring.publish_course(draft, self.trainer)
        db.session.commit()

    def first_question(self) -> Question:
        return db.session.scalars(
            sa.select(Question).filter_by(category_id=self.category.id).order_by(Question.id)
        ).first()

    def pool_size(self) -> int:
        db.session.expire_all()
        ids = [self.category.id, self.child.id]
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Question).where(Question.category_id.in_(ids))
        )


@pytest.fixture
def drawn(world):
    return Drawn(world)


def _question_form(question: Question, category_id: int) -> dict:
    return {
        "category_id": str(category_id),
        "kind": "single",
        "text": question.text,
        "points": "1",
        "choice_1": "甲",
        "choice_2": "乙",
        "correct_1": "1",
    }


def test_delete_below_published_draw_rejected(drawn, login):
    question = drawn.first_question()

    response = login("trainer").post(
        f"/manage/banks/{drawn.bank.id}/questions/{question.id}/delete", follow_redirects=True
    )

    page = response.get_data(as_text=True)
    assert drawn.pool_size() == 3
    assert "职责题库 / 工作职责" in page
    assert drawn.quiz.title in page
    assert "Question deleted." not in page


def test_move_out_of_published_draw_rejected(drawn, login):
    question = drawn.first_question()

    response = login("trainer").post(
        f"/manage/banks/{drawn.bank.id}/questions/{question.id}",
        data=_question_form(question, drawn.top.id),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert drawn.pool_size() == 3
    assert drawn.quiz.title in page


def test_edit_within_draw_allowed(drawn, login):
    question = drawn.first_question()

    response = login("trainer").post(
        f"/manage/banks/{drawn.bank.id}/questions/{question.id}",
        data=_question_form(question, drawn.child.id),
    )

    assert response.status_code == 302
    assert drawn.pool_size() == 3


def test_category_move_out_of_draw_rejected(drawn, login):
    response = login("trainer").post(
        f"/manage/banks/{drawn.bank.id}/categories/{drawn.child.id}",
        data={"name": "谈心谈话", "parent_id": str(drawn.top.id)},
    )

    page = response.get_data(as_text=True)
    db.session.expire_all()
    assert response.status_code == 400
    assert drawn.child.parent_id == drawn.category.id
    assert drawn.quiz.title in page


def test_delete_with_spare_question_allowed(drawn, login):
    spare = _question(drawn.category, "职责备用", drawn.trainer)
    db.session.commit()

    response = login("trainer").post(
        f"/manage/banks/{drawn.bank.id}/questions/{spare.id}/delete"
    )

    assert response.status_code == 302
    assert drawn.pool_size() == 3


def test_draw_short_before_does_not_block(drawn, login):
    """A draw that was already short is the quiz's problem, not this change's."""
    other = banks.create_category(
        drawn.bank, {"name": "其他", "parent_id": str(drawn.top.id)}, drawn.trainer
    )
    unrelated_id = _question(other, "无关题目", drawn.trainer).id
    drawn.quiz.draws[0].count = 4
    db.session.commit()

    response = login("trainer").post(
        f"/manage/banks/{drawn.bank.id}/questions/{unrelated_id}/delete"
    )

    db.session.expire_all()
    assert response.status_code == 302
    assert db.session.get(Question, unrelated_id) is None
