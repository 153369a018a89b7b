"""Rubric levels read with the colon of the reader's language."""

import sqlalchemy as sa

from assessments.tasks_models import ScoreSheet
from lms.extensions import db
from tests.assessments.task_builders import make_task


def test_score_form_level_descriptor_colon(world, login):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    login("counselor1").post(
        f"/tasks/{task.id}/submit", data={"text": "分析"}, content_type="multipart/form-data"
    )
    sheet = db.session.scalar(sa.select(ScoreSheet).filter_by(assessor_id=world.hr))

    page = login("hr").get(f"/assess/{sheet.id}").get_data(as_text=True)

    assert "2：全面" in page
    assert "2: 全面" not in page


def test_rubric_page_level_descriptor_colon(world, login):
    task = make_task(world)
    db.session.commit()

    page = login("trainer").get(f"/manage/rubrics/{task.rubric_id}").get_data(as_text=True)

    assert "（4）：全面" in page
    assert "(4): 全面" not in page
