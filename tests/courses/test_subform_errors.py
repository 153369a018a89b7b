"""Forms inside a larger page name the bad field and keep what was typed."""

import sqlalchemy as sa

from assessments import banks
from assessments.models import QuestionBank, QuizDraw
from courses.class_models import TrainingClass
from lms.accounts.models import User
from lms.extensions import db
from tests.classes.helpers import make_class


def _english(session):
    session.post("/language/en")
    return session


def test_session_without_title_names_field(world, login):
    klass = make_class(world)
    db.session.commit()
    trainer = _english(login("trainer"))

    response = trainer.post(
        f"/classes/{klass.id}/sessions",
        data={"title": "", "held_on": "", "length": "half_day", "place": "报告厅"},
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Title: This field is required." in page
    assert "Date: This field is required." in page
    assert 'name="place" value="报告厅"' in page
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).sessions == []


def test_session_error_in_chinese(world, login):
    klass = make_class(world)
    db.session.commit()
    trainer = login("trainer")
    trainer.post("/language/zh_CN")

    response = trainer.post(
        f"/classes/{klass.id}/sessions",
        data={"title": "", "held_on": "2026-09-05", "length": "half_day"},
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "名称：" in page


def test_category_without_name_names_field(world, login):
    trainer = _english(login("trainer"))
    trainer.post("/manage/banks", data={"name": "思政题库"})
    bank = db.session.scalar(sa.select(QuestionBank))
    top = bank.categories[0]

    response = trainer.post(
        f"/manage/banks/{bank.id}/categories", data={"name": "  ", "parent_id": str(top.id)}
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "New category name: This field is required." in page
    db.session.expire_all()
    assert len(db.session.get(QuestionBank, bank.id).categories) == 1


def test_copy_course_without_code_names_field(world, login):
    trainer = _english(login("trainer"))

    response = trainer.post(f"/manage/courses/{world.course1}/copy", data={"code": ""})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Code of the copy: This field is required." in page
    assert 'id="copy-code-error"' in page


def test_copy_programme_keeps_typed_values(world, login):
    trainer = _english(login("trainer"))

    response = trainer.post(
        f"/manage/programmes/{world.programme}/copy",
        data={"code": "p-draft", "course_suffix": "-2027"},
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Code of the copy: The code p-draft is already in use." in page
    assert 'name="code" required value="p-draft"' in page
    assert 'value="-2027"' in page


def test_add_draw_without_count_names_field(world, draft_quiz, login):
    author = db.session.get(User, world.trainer)
    bank = banks.create_bank(world.uni_a, {"name": "规定题库"}, author)
    db.session.commit()
    top_id = bank.categories[0].id
    trainer = _english(login("trainer"))

    response = trainer.post(
        f"/manage/quizzes/{draft_quiz}/draws",
        data={"category_id": str(top_id), "count": ""},
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert page.count("Number of questions: This field is required.") == 1
    assert f'<option value="{top_id}" selected>' in page
    assert db.session.scalar(sa.select(QuizDraw)) is None
