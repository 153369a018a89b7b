"""Deadline sources of quizzes and training classes, run on a fixed clock."""

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from assessments.models import Attempt, Quiz
from courses import classes
from courses.class_models import ClassStatus, MemberStatus
from courses.models import Enrolment
from lms.accounts.models import User
from lms.extensions import db
from lms.notifications import deadlines
from lms.notifications.models import Notification
from lms.scheduler import run_job_once
from tests.classes.helpers import make_class, make_session
from tests.factories import build_learning_world, make_user

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at_local(year: int, month: int, day: int, hour: int = 8) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def _reminders(kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.kind == kind)
            .order_by(Notification.recipient_id, Notification.id)
        )
    )


def _passed_attempt(quiz: Quiz, user_id: int) -> Attempt:
    return Attempt(
        quiz_id=quiz.id,
        user_id=user_id,
        number=1,
        started_at=_at_local(2026, 3, 1),
        submitted_at=_at_local(2026, 3, 1, 9),
        score=Decimal(2),
        max_score=Decimal(2),
        passed=True,
    )


def test_quiz_and_class_sources_are_registered(app):
    kinds = {source.kind for source in deadlines.registered_sources()}
    assert {"quiz_closes", "class_starts", "class_session_held"} <= kinds


def test_quiz_closing_reminds_learners_still_due(app_ctx):
    world = build_learning_world()
    quiz = db.session.get(Quiz, world.quiz)
    quiz.closes_at = _at_local(2026, 3, 10, 18)
    exhausted = make_user(db.session.get(User, world.counselor).institution, "tried3")
    db.session.add_all(
        [
            Enrolment(user_id=world.counselor, programme_id=world.programme),
            Enrolment(user_id=world.counselor2, programme_id=world.programme),
            Enrolment(user_id=exhausted.id, programme_id=world.programme),
        ]
    )
    db.session.add(_passed_attempt(quiz, world.counselor2))
    for number in (1, 2, 3):
        failed = _passed_attempt(quiz, exhausted.id)
        failed.number, failed.score, failed.passed = number, Decimal(0), False
        db.session.add(failed)
    course_class = make_class(world, code="c1-only", course_only=True)
    course_class.course_id = world.course1
    db.session.flush()
    classes.add_member(
        course_class,
        db.session.get(User, world.organiser),
        by=db.session.get(User, world.trainer),
    )
    db.session.commit()

    run = run_job_once("deadline_reminders", now=_at_local(2026, 3, 9))
    assert run.ok, run.error

    rows = _reminders("quiz_closes")
    assert sorted(row.recipient_id for row in rows) == sorted(
        [world.counselor, world.organiser]
    )
    assert rows[0].subject_type == "quiz"
    assert rows[0].subject_id == quiz.id
    assert rows[0].link == f"/quizzes/{quiz.id}"
    assert quiz.title in rows[0].title


def test_quiz_closing_skips_completed_enrolment(app_ctx):
    world = build_learning_world()
    quiz = db.session.get(Quiz, world.quiz)
    quiz.closes_at = _at_local(2026, 3, 10, 18)
    db.session.add(
        Enrolment(
            user_id=world.counselor,
            programme_id=world.programme,
            completed_at=_at_local(2026, 3, 1),
        )
    )
    db.session.commit()

    result = deadlines.deadline_reminders(_at_local(2026, 3, 9))
    db.session.commit()

    assert "failed_sources" not in result
    assert _reminders("quiz_closes") == []


def test_quiz_outside_window_not_fetched(app_ctx):
    world = build_learning_world()
    quiz = db.session.get(Quiz, world.quiz)
    quiz.closes_at = _at_local(2026, 3, 30, 18)
    db.session.add(Enrolment(user_id=world.counselor, programme_id=world.programme))
    db.session.commit()

    deadlines.deadline_reminders(_at_local(2026, 3, 9))
    db.session.commit()

    assert _reminders("quiz_closes") == []


def _class_with_members(world, status=ClassStatus.OPEN):
    training_class = make_class(world, capacity=1)
    trainer = db.session.get(User, world.trainer)
    classes.add_member(training_class, db.session.get(User, world.counselor), by=trainer)
    waiting = classes.add_member(
        training_class, db.session.get(User, world.counselor2), by=trainer
    )
    assert waiting.status is MemberStatus.WAITING
    training_class.status = status
    db.session.flush()
    return training_class


def test_class_start_and_session_reminders(app_ctx):
    world = build_learning_world()
    training_class = _class_with_members(world)
    session = make_session(training_class, held_on=date(2026, 9, 3))
    db.session.commit()

    # 31 August: the class starts tomorrow and the session is in 3 days.
    deadlines.deadline_reminders(_at_local(2026, 8, 31))
    db.session.commit()

    (start,) = _reminders("class_starts")
    assert start.recipient_id == world.counselor
    assert start.subject_type == "training_class"
    assert start.subject_id == training_class.id
    assert start.dedupe_key.endswith(":1d")
    assert "2026年9月1日" in start.body
    assert "2026-09-01" not in start.body
    assert start.link == f"/classes/{training_class.id}"

    (held,) = _reminders("class_session_held")
    assert held.recipient_id == world.counselor
    assert held.subject_id == session.id
    assert held.dedupe_key.endswith(":3d")
    assert "行政楼301" in held.body
    assert training_class.title in held.body

    # 2 September sends the 1-day session reminder and nothing twice.
    deadlines.deadline_reminders(_at_local(2026, 9, 1))
    deadlines.deadline_reminders(_at_local(2026, 9, 2))
    db.session.commit()
    assert len(_reminders("class_starts")) == 1
    assert [row.dedupe_key[-2:] for row in _reminders("class_session_held")] == [
        "3d",
        "1d",
    ]


def test_session_on_first_day_replaces_class_start(app_ctx):
    world = build_learning_world()
    training_class = _class_with_members(world)
    make_session(training_class, held_on=training_class.starts_on)
    db.session.commit()

    deadlines.deadline_reminders(_at_local(2026, 8, 31))
    db.session.commit()

    assert _reminders("class_starts") == []
    assert [row.recipient_id for row in _reminders("class_session_held")] == [
        world.counselor
    ]


def test_cancelled_class_sends_no_reminder(app_ctx):
    world = build_learning_world()
    training_class = _class_with_members(world, status=ClassStatus.CANCELLED)
    make_session(training_class, held_on=date(2026, 9, 2))
    db.session.commit()

    deadlines.deadline_reminders(_at_local(2026, 8, 31))
    db.session.commit()

    assert _reminders("class_starts") == []
    assert _reminders("class_session_held") == []


def test_class_day_starts_in_institution_zone(app_ctx):
    """At 23:00 on 28 August in Shanghai 1 September is 4 days away, at 00:00 on 29 August 3."""
    world = build_learning_world()
    _class_with_members(world)
    db.session.commit()

    deadlines.deadline_reminders(_at_local(2026, 8, 28, 23))
    db.session.commit()
    assert _reminders("class_starts") == []

    deadlines.deadline_reminders(_at_local(2026, 8, 29, 0))
    db.session.commit()
    assert [row.dedupe_key[-2:] for row in _reminders("class_starts")] == ["3d"]


def test_task_due_reminds_learners_without_submission(app_ctx):
    import io

    from assessments import tasks
    from assessments.rubrics import seed_rubrics
    from assessments.tasks_models import Rubric

    world = build_learning_world()
    trainer = db.session.get(User, world.trainer)
    seed_rubrics(world.uni_a)
    rubric = db.session.scalar(sa.select(Rubric).filter_by(institution_id=world.uni_a))
    task = tasks.save_task(
        world.uni_a,
        {
            "course_id": str(world.course1),
            "kind": "case_analysis",
            "title": "案例分析作业",
            "rubric_id": str(rubric.id),
            "aggregation": "mean",
            "pass_mark": "60",
            "moderator_id": str(world.trainer),
            "published": "y",
        },
        trainer,
    )
    db.session.add_all(
        [
            Enrolment(user_id=world.counselor, programme_id=world.programme),
            Enrolment(user_id=world.counselor2, programme_id=world.programme),
        ]
    )
    db.session.flush()
    counselor2 = db.session.get(User, world.counselor2)
    tasks.submit(task, counselor2, text="已提交", files=[])
    task.due_at = _at_local(2026, 3, 10, 18)
    db.session.commit()

    deadlines.deadline_reminders(_at_local(2026, 3, 9))

    rows = _reminders("task_due")
    assert [row.recipient_id for row in rows] == [world.counselor]
    assert rows[0].link == f"/tasks/{task.id}"
    assert "案例分析作业" in rows[0].title
