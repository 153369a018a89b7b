"""Managers of a performance task are its moderator and administrators off its panel.

Managing covers editing the task, changing its assessor panel, and seeing and
moderating its submissions. Other trainers of the institution get 403, and
staff of another institution get 404.
"""

import pytest
import sqlalchemy as sa

from assessments import tasks
from assessments.tasks_models import (
    PerformanceTask,
    ScoreSheet,
    TaskAssessor,
    TaskSubmission,
)
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.assessments.task_builders import make_task, user
from tests.classes.helpers import make_class
from tests.factories import make_user

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def managed(world):
    """Add a task moderated by the trainer and assessed by HR, with one submission.

    Also adds ``trainer2``, a trainer of the same institution who teaches
    the task's course through a class but neither moderates nor assesses
    the task.
    """
    trainer2 = make_user(
        db.session.get(Institution, world.uni_a),
        "trainer2",
        Role.TRAINER,
        full_name="郑培训师",
    )
    training_class = make_class(world)
    training_class.trainers.append(trainer2)
    task = make_task(world, assessors=("hr",), moderator="trainer")
    submission = tasks.submit(task, user("counselor1"), text="我的分析")
    db.session.commit()
    return {"task": task.id, "submission": submission.id}


def _task_form(task: PerformanceTask, **overrides) -> dict:
    data = {
        "course_id": str(task.course_id),
        "kind": task.kind.value,
        "title": task.title,
        "instructions": task.instructions,
        "rubric_id": str(task.rubric_id),
        "aggregation": task.aggregation.value,
        "divergence_margin": "1",
        "pass_mark": str(task.pass_mark),
        "moderator_id": str(task.moderator_id),
        "blind_candidates": "y",
        "published": "y",
    }
    data.update(overrides)
    return data


def _manage_requests(ids: dict) -> list[tuple[str, str, dict]]:
    """Return every task management request as (method, URL, form data)."""
    task = db.session.get(PerformanceTask, ids["task"])
    own_id = str(user("trainer2").id)
    hr_id = user("hr").id
    return [
        ("GET", f"/manage/tasks/{task.id}", {}),
        ("POST", f"/manage/tasks/{task.id}", _task_form(task, pass_mark="99")),
        ("POST", f"/manage/tasks/{task.id}/assessors", {"user_id": own_id}),
        ("POST", f"/manage/tasks/{task.id}/assessors/{hr_id}/remove", {}),
        ("GET", f"/manage/tasks/{task.id}/submissions", {}),
        ("POST", f"/manage/tasks/{task.id}/release", {}),
        ("GET", f"/manage/submissions/{ids['submission']}", {}),
        (
            "POST",
            f"/manage/submissions/{ids['submission']}",
            {"final_score": "4", "reason": "复核"},
        ),
        ("POST", f"/manage/submissions/{ids['submission']}/release", {}),
    ]


def _send(session, method: str, url: str, data: dict):
    if method == "GET":
        return session.get(url)
    return session.post(url, data=data)


def _panel(task_id: int) -> set[str]:
    members = db.session.scalars(sa.select(TaskAssessor).filter_by(task_id=task_id))
    return {member.user.username for member in members}


def test_other_trainer_forbidden_everywhere(managed, login):
    other = login("trainer2")

    for method, url, data in _manage_requests(managed):
        response = _send(other, method, url, data)
        assert response.status_code == 403, f"{method} {url}"


def test_other_trainer_changes_nothing(managed, login):
    other = login("trainer2")

    for method, url, data in _manage_requests(managed):
        _send(other, method, url, data)

    db.session.expire_all()
    task = db.session.get(PerformanceTask, managed["task"])
    assert task.pass_mark == 60
    assert _panel(task.id) == {"hr"}
    sheets = db.session.scalars(sa.select(ScoreSheet)).all()
    assert [sheet.assessor.username for sheet in sheets] == ["hr"]
    assert db.session.get(TaskSubmission, managed["submission"]).final_score is None
    assert "我的分析" not in other.get("/assess").get_data(as_text=True)


def test_other_trainer_list_links_learner_view(managed, login):
    listing = login("trainer2").get("/manage/tasks").get_data(as_text=True)

    assert f'href="/tasks/{managed["task"]}"' in listing
    assert f'href="/manage/tasks/{managed["task"]}"' not in listing
    assert "Moderated by 赵培训师" in listing


def test_other_institution_gets_not_found(managed, world, login):
    make_user(db.session.get(Institution, world.uni_b), "trainer_b", Role.TRAINER)
    db.session.commit()
    outsider = login("trainer_b")

    for method, url, data in _manage_requests(managed):
        response = _send(outsider, method, url, data)
        assert response.status_code == 404, f"{method} {url}"


@pytest.mark.parametrize("username", ["trainer", "admin"])
def test_manager_edits_task_and_panel(managed, login, username):
    manager = login(username)
    task = db.session.get(PerformanceTask, managed["task"])
    url = f"/manage/tasks/{task.id}"

    assert manager.get(url).status_code == 200
    saved = manager.post(url, data=_task_form(task, pass_mark="70"))
    added = manager.post(f"{url}/assessors", data={"user_id": user("trainer2").id})
    removed = manager.post(f"{url}/assessors/{user('hr').id}/remove")

    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(url)
    assert added.status_code == 302
    assert removed.status_code == 302
    db.session.expire_all()
    assert db.session.get(PerformanceTask, task.id).pass_mark == 70
    assert _panel(task.id) == {"trainer2"}


@pytest.mark.parametrize("username", ["trainer", "admin"])
def test_manager_moderates_submissions(managed, login, username):
    manager = login(username)
    submission_url = f"/manage/submissions/{managed['submission']}"

    listing = manager.get(f"/manage/tasks/{managed['task']}/submissions")
    review = manager.get(submission_url)
    saved = manager.post(
        submission_url, data={"final_score": "3", "reason": "复核后给分"}
    )

    assert listing.status_code == 200
    assert review.status_code == 200
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(TaskSubmission, managed["submission"]).final_score == 3


def test_added_assessor_scores_sheet(managed, login):
    """An assessor put on the panel by the moderator gets and saves a sheet."""
    task = db.session.get(PerformanceTask, managed["task"])
    moderator = login("trainer")
    moderator.post(
        f"/manage/tasks/{task.id}/assessors", data={"user_id": user("trainer2").id}
    )
    sheet = db.session.scalar(
        sa.select(ScoreSheet).filter_by(assessor_id=user("trainer2").id)
    )
    criteria = [criterion for rubric in task.rubrics for criterion in rubric.criteria]
    levels = {f"criterion-{c.id}": str(c.levels[0].id) for c in criteria}

    scored = login("trainer2").post(f"/assess/{sheet.id}", data=levels)

    assert scored.status_code == 302
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).scored_at is not None


def test_admin_on_panel_is_forbidden(managed, login):
    """An administrator who assesses the task does not manage it."""
    task = db.session.get(PerformanceTask, managed["task"])
    tasks.add_assessor(task, user("admin"), user("trainer"))
    db.session.commit()
    admin = login("admin")

    edit = admin.get(f"/manage/tasks/{task.id}")
    added = admin.post(
        f"/manage/tasks/{task.id}/assessors", data={"user_id": user("trainer2").id}
    )
    listing = admin.get(f"/manage/tasks/{task.id}/submissions")

    assert edit.status_code == 403
    assert added.status_code == 403
    assert listing.status_code == 403
    assert _panel(task.id) == {"hr", "admin"}


def test_handing_over_moderation_lists_tasks(managed, login):
    """A trainer who hands moderation to someone else is sent to the task list."""
    task = db.session.get(PerformanceTask, managed["task"])
    trainer = login("trainer")
    url = f"/manage/tasks/{task.id}"

    saved = trainer.post(url, data=_task_form(task, moderator_id=str(user("admin").id)))

    assert saved.status_code == 302
    assert saved.headers["Location"].endswith("/manage/tasks")
    page = trainer.get("/manage/tasks").get_data(as_text=True)
    assert "Only its moderator, 孙管理员, and administrators can now edit it" in page
    assert trainer.get(url).status_code == 403


def test_new_task_for_other_moderator_lists_tasks(managed, login):
    """A task created for another moderator sends its author to the task list."""
    task = db.session.get(PerformanceTask, managed["task"])
    trainer = login("trainer")
    form = _task_form(task, title="新任务", moderator_id=str(user("admin").id))

    created = trainer.post("/manage/tasks/new", data=form)

    assert created.status_code == 302
    assert created.headers["Location"].endswith("/manage/tasks")
    new_task = db.session.scalar(sa.select(PerformanceTask).filter_by(title="新任务"))
    assert new_task.moderator_id == user("admin").id
