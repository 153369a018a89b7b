"""Deleting a bank question goes through a confirmation page of its own."""

import pytest

from assessments import banks
from assessments.models import Question
from lms.accounts.models import User
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def bank_question(world):
    trainer = db.session.get(User, world.trainer)
    bank = banks.create_bank(world.uni_a, {"name": "职责题库"}, trainer)
    question = banks.save_bank_question(
        bank.categories[0],
        {
            "kind": "single",
            "text": "辅导员的首要职责是什么？",
            "points": "2",
            "choice_1": "思想政治教育",
            "choice_2": "宿舍维修",
            "correct_1": "1",
        },
        trainer,
    )
    db.session.commit()
    return bank.id, question.id


def _exists(question_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Question, question_id) is not None


def test_bank_page_links_to_confirmation(bank_question, login):
    bank_id, question_id = bank_question
    delete_url = f"/manage/banks/{bank_id}/questions/{question_id}/delete"

    page = login("trainer").get(f"/manage/banks/{bank_id}").get_data(as_text=True)

    assert f'href="{delete_url}"' in page
    assert f'action="{delete_url}"' not in page


def test_confirmation_page_deletes_nothing(bank_question, login):
    bank_id, question_id = bank_question
    delete_url = f"/manage/banks/{bank_id}/questions/{question_id}/delete"

    response = login("trainer").get(delete_url)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "辅导员的首要职责是什么？" in page
    assert "This cannot be undone." in page
    assert f'action="{delete_url}"' in page
    assert _exists(question_id)


def test_confirmed_delete_removes_question(bank_question, login):
    bank_id, question_id = bank_question

    response = login("trainer").post(
        f"/manage/banks/{bank_id}/questions/{question_id}/delete", follow_redirects=True
    )

    assert response.status_code == 200
    assert "Question deleted." in response.get_data(as_text=True)
    assert not _exists(question_id)

