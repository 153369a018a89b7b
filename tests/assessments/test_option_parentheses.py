"""Option labels with a status or score in brackets use full-width brackets in Chinese."""

from lms.extensions import db
from tests.assessments.task_builders import make_rubric


def test_task_form_options_use_chinese_brackets(world, login):
    make_rubric(world.uni_a)
    db.session.commit()

    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    assert "（已发布）</option>" in page
    assert "评分标准 weighted（4）</option>" in page
    assert " (已发布)</option>" not in page


def test_programme_add_course_option_uses_chinese_brackets(world, login):
    page = login("trainer").get(f"/manage/programmes/{world.draft}").get_data(as_text=True)

    assert " (已发布)</option>" not in page
    assert "（已发布）</option>" in page
