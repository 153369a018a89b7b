"""A fill-in-the-blank question written by hand accepts any run of underscores as a blank."""

import pytest
import sqlalchemy as sa

from assessments.formats import BLANK
from assessments.models import Question, QuestionBank
from lms.extensions import db


@pytest.fixture
def bank(world, login):
    trainer = login("trainer")
    trainer.post("/manage/banks", data={"name": "填空题库"})
    bank = db.session.scalar(sa.select(QuestionBank).filter_by(name="填空题库"))
    return trainer, bank


def _post(trainer, bank, text: str, blanks: str):
    return trainer.post(
        f"/manage/banks/{bank.id}/questions/new",
        data={
            "category_id": str(bank.categories[0].id),
            "kind": "fill_blank",
            "text": text,
            "points": "2",
            "scoring": "all_or_nothing",
            "blanks": blanks,
        },
    )


@pytest.mark.parametrize("underscores", [3, 4, 6, 12])
def test_underscore_run_is_one_blank(bank, underscores):
    trainer, target = bank
    response = _post(trainer, target, f"辅导员是{'_' * underscores}力量。", "骨干")

    assert response.status_code == 302
    question = db.session.scalar(
        sa.select(Question).filter_by(category_id=target.categories[0].id)
    )
    assert question.text == f"辅导员是{BLANK}力量。"
    assert question.answer_key == {"blanks": [["骨干"]]}


def test_two_underscore_runs_are_two_blanks(bank):
    trainer, target = bank
    response = _post(trainer, target, "____年____月", "2017\n9")

    assert response.status_code == 302
    question = db.session.scalar(
        sa.select(Question).filter_by(category_id=target.categories[0].id)
    )
    assert question.text == f"{BLANK}年{BLANK}月"
