"""The learner's task list links to the scoring queue only for panel members."""

from lms.extensions import db
from tests.assessments.task_builders import make_task

QUEUE_LINK = 'href="/assess"'


def test_candidate_sees_no_queue_link(world, login):
    make_task(world, assessors=("trainer", "counselor2"))
    db.session.commit()

    page = login("counselor1").get("/tasks").get_data(as_text=True)

    assert QUEUE_LINK not in page
    assert "分配给我评分的提交" not in page


def test_panel_member_sees_queue_link(world, login):
    make_task(world, assessors=("trainer", "counselor2"))
    db.session.commit()

    page = login("counselor2").get("/tasks").get_data(as_text=True)

    assert QUEUE_LINK in page
    assert "分配给我评分的提交" in page
