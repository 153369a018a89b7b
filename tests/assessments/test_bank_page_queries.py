"""A question bank's page loads its questions' tags and choices together."""

import sqlalchemy as sa

from assessments.models import QuestionBank
from lms.extensions import db
from tests.test_query_budgets import queries_for


def _add_questions(trainer, bank: QuestionBank, count: int, start: int) -> None:
    for number in range(start, start + count):
        response = trainer.post(
            f"/manage/banks/{bank.id}/questions/new",
            data={
                "category_id": str(bank.categories[0].id),
                "kind": "single",
                "text": f"第{number}题",
                "points": "1",
                "scoring": "all_or_nothing",
                "choice_1": "对",
                "correct_1": "1",
                "choice_2": "错",
                "tags_topic": f"专题{number}",
            },
        )
        assert response.status_code == 302


def test_bank_page_queries_do_not_grow_with_questions(app, world, login):
    trainer = login("trainer")
    trainer.post("/manage/banks", data={"name": "谈心谈话题库"})
    bank = db.session.scalar(sa.select(QuestionBank).filter_by(name="谈心谈话题库"))
    url = f"/manage/banks/{bank.id}"

    _add_questions(trainer, bank, 2, 0)
    few = queries_for(app, trainer.client, url)
    _add_questions(trainer, bank, 10, 2)
    many = queries_for(app, trainer.client, url)

    assert many <= few, (few, many)
