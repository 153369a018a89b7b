"""A true/false question written by hand without choice texts gets 正确 and 错误."""

import pytest
import sqlalchemy as sa

from assessments.models import FALSE_VALUE, TRUE_VALUE, Question, QuestionBank
from lms.extensions import db


@pytest.fixture
def bank(world, login):
    trainer = login("trainer")
    trainer.post("/manage/banks", data={"name": "判断题库"})
    return trainer, db.session.scalar(sa.select(QuestionBank).filter_by(name="判断题库"))


def _post(trainer, bank, **choices):
    return trainer.post(
        f"/manage/banks/{bank.id}/questions/new",
        data={
            "category_id": str(bank.categories[0].id),
            "kind": "true_false",
            "text": "辅导员可以公开学生的心理咨询记录。",
            "points": "1",
            "scoring": "all_or_nothing",
            **choices,
        },
    )


def test_empty_choices_become_true_and_false(bank):
    trainer, target = bank
    response = _post(trainer, target, correct_2="1")

    assert response.status_code == 302
    question = db.session.scalar(
        sa.select(Question).filter_by(category_id=target.categories[0].id)
    )
    assert [choice.text for choice in question.choices] == [TRUE_VALUE, FALSE_VALUE]
    assert [choice.is_correct for choice in question.choices] == [False, True]


def test_empty_choices_without_tick_name_the_fix(bank):
    trainer, target = bank
    response = _post(trainer, target)

    assert response.status_code == 400
    assert "判断题必须有且只有一个正确选项" in response.get_data(as_text=True)
