"""Lost-update protection of course modules and question bank categories."""

import pytest
import sqlalchemy as sa

from assessments.models import QuestionBank, QuestionCategory
from courses import sections
from courses.models import Course, CourseModule, PublicationStatus
from lms.accounts.models import User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.conftest import demo_row
from tests.revisions.forms import edit_form, text_of


def _full_name(username: str) -> str:
    return db.session.scalar(sa.select(User.full_name).filter_by(username=username))


@pytest.fixture
def module(app, seeded):
    """Return (course id, module id) of a draft demo course with one module."""
    with app.app_context():
        course = demo_row(Course, code="mental-health-practice")
        course.status = PublicationStatus.DRAFT
        trainer = db.session.scalar(sa.select(User).filter_by(username="trainer"))
        # Only a course's authors and administrators change its content.
        course.author_id = trainer.id
        module = sections.save_module(course, {"title": "第一单元"}, trainer)
        db.session.commit()
        return course.id, module.id


def _module_race(race, course_id: int, module_id: int, first: str, second: str):
    action = f"/manage/courses/{course_id}/modules/{module_id}"
    return race(
        f"/manage/courses/{course_id}", first, second, post_url=action, form_action=action
    )


def test_module_rename_saves(app, race, module):
    course_id, module_id = module
    edit = _module_race(race, course_id, module_id, "trainer", "admin")
    edit.first_saves(title="心理危机识别")

    with app.app_context():
        assert db.session.get(CourseModule, module_id).title == "心理危机识别"


def test_stale_module_rename_rejected(app, race, module):
    course_id, module_id = module
    edit = _module_race(race, course_id, module_id, "trainer", "admin")
    edit.first_saves(title="甲改过的单元名称")
    html = edit.second_saves(title="乙改过的单元名称")

    with app.app_context():
        assert f"{_full_name('trainer')} changed this on" in text_of(html)
        assert db.session.get(CourseModule, module_id).title == "甲改过的单元名称"
    assert "甲改过的单元名称" in text_of(html)

    edit.second_reloads_and_saves(title="乙改过的单元名称")
    with app.app_context():
        assert db.session.get(CourseModule, module_id).title == "乙改过的单元名称"


def test_module_version_kept_on_failed_save(app, login, module):
    course_id, module_id = module
    trainer = login("trainer")
    page = edit_form(trainer.get(f"/manage/courses/{course_id}").get_data(as_text=True))

    response = trainer.post(
        f"/manage/courses/{course_id}", data={**page, "title": ""}
    )
    assert response.status_code == 400
    action = f"/manage/courses/{course_id}/modules/{module_id}"
    rename = edit_form(response.get_data(as_text=True), action)
    with app.app_context():
        version = db.session.get(CourseModule, module_id).lock_version
    assert rename["lock_version"] == str(version) != page["lock_version"]


def test_module_rename_after_course_save_goes_through(app, race, module):
    course_id, module_id = module
    edit = _module_race(race, course_id, module_id, "trainer", "admin")
    course_page = edit_form(edit.first.get(f"/manage/courses/{course_id}").get_data(as_text=True))
    saved = edit.first.post(f"/manage/courses/{course_id}", data={**course_page, "summary": "新的简介"})
    assert saved.status_code == 302

    edit.second_page["title"] = "只改单元名称"
    response = edit.second.post(edit.url, data=edit.second_page)
    assert response.status_code == 302


@pytest.fixture
def category(app, seeded):
    """Return (bank id, category id, id of a sibling category) from the demo bank."""
    with app.app_context():
        bank = db.session.scalar(
            sa.select(QuestionBank)
            .join(Institution, Institution.id == QuestionBank.institution_id)
            .where(Institution.code == "demo-univ")
        )
        children = sorted(
            (each for each in bank.categories if each.parent_id is not None),
            key=lambda each: each.id,
        )
        return bank.id, children[0].id, children[1].id


def test_category_rename_saves(app, race, category):
    bank_id, category_id, _sibling = category
    edit = race(f"/manage/banks/{bank_id}/categories/{category_id}", "trainer", "admin")
    edit.first_saves(name="改过的分类名称")

    with app.app_context():
        assert db.session.get(QuestionCategory, category_id).name == "改过的分类名称"


def test_stale_category_move_rejected(app, race, category):
    bank_id, category_id, sibling_id = category
    edit = race(f"/manage/banks/{bank_id}/categories/{category_id}", "trainer", "admin")
    edit.first_saves(name="甲改过的分类名称")
    html = edit.second_saves(name="乙改过的分类名称", parent_id=str(sibling_id))

    with app.app_context():
        assert f"{_full_name('trainer')} changed this on" in text_of(html)
        moved = db.session.get(QuestionCategory, category_id)
        assert moved.name == "甲改过的分类名称"
        assert moved.parent_id != sibling_id
    assert "甲改过的分类名称" in text_of(html)

    edit.second_reloads_and_saves(name="乙改过的分类名称", parent_id=str(sibling_id))
    with app.app_context():
        moved = db.session.get(QuestionCategory, category_id)
        assert (moved.name, moved.parent_id) == ("乙改过的分类名称", sibling_id)


def test_category_not_moved_below_itself(app, login, category, english):
    bank_id, category_id, _sibling = category
    with app.app_context():
        parent = db.session.get(QuestionCategory, category_id)
        child = QuestionCategory(bank_id=bank_id, parent=parent, name="子分类")
        db.session.add(child)
        db.session.commit()
        child_id = child.id

    trainer = login("trainer")
    url = f"/manage/banks/{bank_id}/categories/{category_id}"
    page = edit_form(trainer.get(url).get_data(as_text=True))
    response = trainer.post(url, data={**page, "parent_id": str(child_id)})

    assert response.status_code == 400
    assert "Choose a parent outside this category" in text_of(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(QuestionCategory, category_id).parent_id != child_id


def test_category_editor_needs_author_role(app, login, category):
    bank_id, category_id, _sibling = category
    hr = login("hr")
    assert hr.get(f"/manage/banks/{bank_id}/categories/{category_id}").status_code == 403
