"""Only learners who take a task's course may submit to it."""

import pytest
from flask_babel import force_locale

from assessments import tasks
from assessments.tasks_models import TaskSubmission
from courses import classes
from courses.class_models import MemberStatus
from lms.extensions import db
from tests.assessments.task_builders import make_task, user
from tests.classes.helpers import make_class
from tests.conftest import count


def test_unenrolled_learner_cannot_submit(world):
    task = make_task(world, candidates=())

    with force_locale("en"), pytest.raises(tasks.TaskError) as caught:
        tasks.submit(task, user("counselor1"), text="分析")

    assert "not enrolled" in str(caught.value)
    assert "心理危机识别" in str(caught.value)
    assert count(TaskSubmission) == 0


def test_programme_enrolment_allows_submission(world):
    task = make_task(world, candidates=("counselor1",))

    submission = tasks.submit(task, user("counselor1"), text="分析")

    assert submission.number == 1
    assert tasks.submission_problem(task, user("organiser")) is not None


def test_course_class_member_may_submit(world):
    task = make_task(world, candidates=())
    course_class = make_class(world, code="c1-only", course_only=True)
    course_class.course_id = world.course1
    db.session.flush()
    member = classes.add_member(course_class, user("organiser"), by=user("trainer"))
    assert member.status is MemberStatus.ENROLLED

    submission = tasks.submit(task, user("organiser"), text="分析")

    assert submission.user_id == user("organiser").id


def test_task_pages_for_unenrolled_learner(world, login):
    task = make_task(world, candidates=("counselor2",))
    db.session.commit()
    outsider = login("counselor1")
    outsider.post("/language/en")
    enrolled = login("counselor2")

    listing = outsider.get("/tasks").get_data(as_text=True)
    response = outsider.post(
        f"/tasks/{task.id}/submit",
        data={"text": "分析"},
        content_type="multipart/form-data",
    )

    assert f"/tasks/{task.id}" not in listing
    assert f"/tasks/{task.id}" in enrolled.get("/tasks").get_data(as_text=True)
    assert response.status_code == 400
    assert "in which you are not enrolled" in response.get_data(as_text=True)
    assert count(TaskSubmission) == 0
