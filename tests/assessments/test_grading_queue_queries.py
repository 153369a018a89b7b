"""The essay grading queue loads its rows' attempts, learners and questions together."""

from datetime import UTC, datetime

from assessments import authoring, services
from assessments.models import Quiz
from courses import services as course_services
from courses.models import Programme
from lms.accounts.models import User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import as_draft, make_user
from tests.test_query_budgets import queries_for

T0 = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)


def _submit_essays(world, quiz: Quiz, essay_ids: list[int], start: int, count: int) -> None:
    institution = db.session.get(Institution, world.uni_a)
    programme = db.session.get(Programme, world.programme)
    for number in range(start, start + count):
        learner = make_user(institution, f"essay{number}")
        course_services.enrol(learner, programme)
        attempt = services.start_attempt(learner, quiz, now=T0)
        answers = {essay_id: f"第{number}份答卷" for essay_id in essay_ids}
        services.submit_attempt(attempt, answers, now=T0)
    db.session.commit()


def test_grading_queue_queries_do_not_grow(app, world, login):
    quiz = db.session.get(Quiz, world.quiz)
    trainer = db.session.get(User, world.trainer)
    with as_draft(quiz.course):
        essay_ids = [
            authoring.save_question(
                quiz, {"kind": "essay", "text": f"论述题{n}", "points": "5"}, trainer
            ).id
            for n in range(2)
        ]
    db.session.commit()
    client = login("trainer").client

    _submit_essays(world, quiz, essay_ids, 0, 1)
    few = queries_for(app, client, "/manage/grading")
    _submit_essays(world, quiz, essay_ids, 1, 5)
    many = queries_for(app, client, "/manage/grading")

    assert many <= few, (few, many)
