"""Competency level names on staff pages, in the reader's language."""

from types import SimpleNamespace

from lms.competencies import services
from lms.extensions import db
from lms.labels import level_label, level_name_hidden
from tests.competencies.helpers import make_draft, user

FRAMEWORK_TITLE = "高等学校辅导员职业能力标准（暂行）"


def _draft_with_named_levels(app) -> int:
    """Add a draft whose levels have standard codes, standard names and custom names."""
    with app.app_context():
        draft = make_draft(user("trainer"))
        services.save_level(
            draft, {"code": "mid", "name": "中级", "position": 3, "min_years": None, "max_years": None}
        )
        services.save_level(
            draft,
            {"code": "expert", "name": "专家级", "position": 4, "min_years": None, "max_years": None},
        )
        draft.levels[1].name = "高级辅导员"
        db.session.commit()
        return draft.id


def _optgroup_labels(page: str) -> list[str]:
    return [part.split('"')[0] for part in page.split('<optgroup label="')[1:]]


def test_level_label_matches_code_or_name(app_ctx, english):
    def level(code, name):
        return SimpleNamespace(code=code, name=name)

    assert level_label(level("junior", "初级")) == "Junior"
    assert level_label(level("L2", "中级")) == "Intermediate"
    assert level_label(level("L3", " Senior ")) == "Senior"
    assert level_label(level("expert", "专家级")) == "专家级"
    assert level_label(level("senior", "高级辅导员")) == "Senior"
    assert level_name_hidden(level("senior", "高级辅导员"))
    assert not level_name_hidden(level("junior", "初级"))
    assert not level_name_hidden(level("L2", "中级"))
    assert not level_name_hidden(level("expert", "专家级"))


def test_framework_page_levels_in_english(app, seeded, login, english):
    draft_id = _draft_with_named_levels(app)

    page = login("trainer").get(f"/frameworks/{draft_id}").get_data(as_text=True)

    assert "1. Junior <span" in page
    assert "2. Senior · 高级辅导员 <span" in page
    assert "3. Intermediate <span" in page
    assert "4. 专家级 <span" in page
    assert "1. 初级" not in page
    assert "1.1 · Junior" in page
    assert "2.1 · Senior" in page
    assert "· 初级" not in page


def test_framework_page_levels_in_chinese(app, seeded, login):
    draft_id = _draft_with_named_levels(app)

    page = login("trainer").get(f"/frameworks/{draft_id}").get_data(as_text=True)

    assert "1. 初级 <span" in page
    assert "2. 高级 · 高级辅导员 <span" in page
    assert "3. 中级 <span" in page
    assert "4. 专家级 <span" in page
    assert "1.1 · 初级" in page
    assert "Junior" not in page


def test_item_form_level_choices_in_english(app, seeded, login, english):
    draft_id = _draft_with_named_levels(app)

    page = login("trainer").get(f"/frameworks/{draft_id}/items/new").get_data(as_text=True)

    assert ">Junior</option>" in page
    assert ">Intermediate</option>" in page
    assert ">专家级</option>" in page
    assert ">初级</option>" not in page


def test_item_form_level_choices_in_chinese(app, seeded, login):
    draft_id = _draft_with_named_levels(app)

    page = login("trainer").get(f"/frameworks/{draft_id}/items/new").get_data(as_text=True)

    assert ">初级</option>" in page
    assert ">中级</option>" in page
    assert "Junior" not in page


def test_course_form_levels_in_english(seeded, login, english):
    page = login("trainer").get("/manage/courses/new").get_data(as_text=True)

    labels = _optgroup_labels(page)
    assert f"{FRAMEWORK_TITLE} · Junior" in labels
    assert f"{FRAMEWORK_TITLE} · Intermediate" in labels
    assert f"{FRAMEWORK_TITLE} · Senior" in labels
    assert f"{FRAMEWORK_TITLE} · 初级" not in labels


def test_course_form_levels_in_chinese(seeded, login):
    page = login("trainer").get("/manage/courses/new").get_data(as_text=True)

    labels = _optgroup_labels(page)
    assert f"{FRAMEWORK_TITLE} · 初级" in labels
    assert f"{FRAMEWORK_TITLE} · 高级" in labels
    assert f"{FRAMEWORK_TITLE} · Junior" not in labels


def test_task_form_levels_in_english(seeded, login, english):
    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    labels = _optgroup_labels(page)
    assert f"{FRAMEWORK_TITLE} · Junior" in labels
    assert f"{FRAMEWORK_TITLE} · Senior" in labels
    assert f"{FRAMEWORK_TITLE} · 初级" not in labels


def test_task_form_levels_in_chinese(seeded, login):
    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    labels = _optgroup_labels(page)
    assert f"{FRAMEWORK_TITLE} · 初级" in labels
    assert f"{FRAMEWORK_TITLE} · 中级" in labels
    assert f"{FRAMEWORK_TITLE} · Junior" not in labels
