"""Lost-update protection of rubrics, performance tasks, contests and class sessions."""

from types import SimpleNamespace

import sqlalchemy as sa

from assessments import contests
from assessments.tasks_models import Contest, PerformanceTask, Rubric
from courses.class_models import ClassSession
from courses.models import Course, Programme
from lms.extensions import db
from tests.assessments.task_builders import make_task, user
from tests.conftest import demo_row


def _demo_world() -> SimpleNamespace:
    """The demo rows the task builders expect."""
    course = demo_row(Course, code="mental-health-practice")
    return SimpleNamespace(
        uni_a=course.institution_id,
        course1=course.id,
        programme=demo_row(Programme, code="junior-prejob-2026").id,
        trainer=user("trainer").id,
    )


def _first(model):
    return db.session.scalar(sa.select(model).order_by(model.id))


def test_stale_rubric_save_rejected(app, race):
    with app.app_context():
        rubric = _first(Rubric)
        rubric_id, title = rubric.id, rubric.title

    edit = race(f"/manage/rubrics/{rubric_id}", "trainer", "admin")
    edit.first_saves(title="甲改过的量规名称")
    edit.second_saves(description="乙写的量规说明")

    with app.app_context():
        rubric = db.session.get(Rubric, rubric_id)
        assert rubric.title == "甲改过的量规名称" != title
        assert rubric.description != "乙写的量规说明"


def test_stale_task_save_rejected(app, race):
    with app.app_context():
        task_id = make_task(
            _demo_world(), moderator="trainer", assessors=("hr", "counselor2")
        ).id
        db.session.commit()

    edit = race(f"/manage/tasks/{task_id}", "admin", "trainer")
    edit.first_saves(title="甲改过的任务名称")
    edit.second_saves(instructions="乙写的任务说明")

    with app.app_context():
        task = db.session.get(PerformanceTask, task_id)
        assert task.title == "甲改过的任务名称"
        assert task.instructions != "乙写的任务说明"
    edit.second_saves_again()


def test_stale_contest_save_rejected(app, race):
    with app.app_context():
        contest = contests.save_contest(
            _demo_world().uni_a,
            {
                "title": "大赛",
                "award_mode": "rank_share",
                "first_tier": "20",
                "second_tier": "30",
                "third_tier": "50",
            },
            user("trainer"),
        )
        db.session.commit()
        contest_id = contest.id

    edit = race(
        f"/contests/{contest_id}",
        "trainer",
        "admin",
        post_url=f"/manage/contests/{contest_id}",
    )
    edit.first_saves(title="甲改过的竞赛名称")
    edit.second_saves(third_tier=edit.second_page["second_tier"])

    with app.app_context():
        assert db.session.get(Contest, contest_id).title == "甲改过的竞赛名称"


def test_stale_class_session_save_rejected(app, race):
    with app.app_context():
        session = _first(ClassSession)
        url = f"/classes/{session.class_id}/sessions/{session.id}/edit"
        session_id = session.id

    edit = race(url, "admin", "trainer")
    edit.first_saves(title="甲改过的日程名称")
    edit.second_saves(place="乙改过的地点")

    with app.app_context():
        session = db.session.get(ClassSession, session_id)
        assert session.title == "甲改过的日程名称"
        assert session.place != "乙改过的地点"
    edit.second_saves_again()
