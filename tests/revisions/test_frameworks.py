"""Lost-update protection of the competency framework editor."""

from lms.competencies.models import CompetencyItem, Framework
from lms.extensions import db
from tests.competencies.helpers import make_draft, user


def test_stale_framework_save_rejected(app, race):
    with app.app_context():
        draft_id = make_draft(user("trainer")).id
        db.session.commit()

    edit = race(f"/frameworks/{draft_id}/edit", "trainer", "admin")
    edit.first_saves(title="甲改过的框架名称")
    edit.second_saves(notes="乙写的说明")

    with app.app_context():
        framework = db.session.get(Framework, draft_id)
        assert framework.title == "甲改过的框架名称"
        assert framework.notes != "乙写的说明"
    edit.second_saves_again()


def test_stale_item_save_rejected(app, race):
    with app.app_context():
        draft = make_draft(user("trainer"))
        db.session.commit()
        draft_id, item = draft.id, draft.items[0]
        url = f"/frameworks/{draft_id}/items/{item.id}"
        item_id, summary = item.id, item.summary

    edit = race(url, "trainer", "admin")
    edit.first_saves(summary="甲改过的概述")
    edit.second_saves(code="9.9")

    with app.app_context():
        item = db.session.get(CompetencyItem, item_id)
        assert item.summary == "甲改过的概述" != summary
        assert item.code != "9.9"
    edit.second_saves_again()
