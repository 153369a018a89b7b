"""Task moderation and assessor pages load their rows' sheets and marks together."""

from assessments import tasks
from courses import services as course_services
from courses.models import Programme
from lms.extensions import db
from lms.organisations.models import Institution
from tests.assessments.task_builders import make_task, score
from tests.factories import make_user
from tests.test_query_budgets import queries_for


def _scored_submissions(world, task, start: int, count: int) -> None:
    institution = db.session.get(Institution, world.uni_a)
    programme = db.session.get(Programme, world.programme)
    for number in range(start, start + count):
        learner = make_user(institution, f"candidate{number}")
        course_services.enrol(learner, programme)
        submission = tasks.submit(task, learner, text=f"第{number}份分析")
        score(submission, "hr", [1, 2, 1])
    db.session.commit()


def _counts(app, world, login, path_of):
    task = make_task(world, assessors=("hr", "counselor2"), moderator="trainer", candidates=())
    db.session.commit()
    client = login(path_of(task)[0]).client
    _scored_submissions(world, task, 0, 1)
    few = queries_for(app, client, path_of(task)[1])
    _scored_submissions(world, task, 1, 5)
    many = queries_for(app, client, path_of(task)[1])
    return few, many


def test_submissions_page_queries_do_not_grow(app, world, login):
    few, many = _counts(
        app, world, login, lambda task: ("trainer", f"/manage/tasks/{task.id}/submissions")
    )

    assert many <= few, (few, many)


def test_assess_queue_queries_do_not_grow(app, world, login):
    few, many = _counts(app, world, login, lambda task: ("counselor2", "/assess"))

    assert many <= few, (few, many)
