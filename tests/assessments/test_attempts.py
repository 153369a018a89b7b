"""Attempt rules on a fixed clock: window, time limit, resume, submission, grants, grades."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments import authoring, banks, marking, review, services
from assessments.models import (
    Attempt,
    AttemptAnswer,
    GradingMethod,
    Quiz,
    QuizDraw,
    ReviewTiming,
)
from courses.models import Course
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.scheduler import run_job_once
from tests.factories import as_draft

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")

T0 = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def quiz(world) -> Quiz:
    return db.session.get(Quiz, world.quiz)


@pytest.fixture
def learner(world) -> User:
    return db.session.get(User, world.counselor)


@pytest.fixture
def trainer(world) -> User:
    return db.session.get(User, world.trainer)


def _right(quiz):
    return {q.id: {c.id for c in q.choices if c.is_correct} for q in quiz.questions}


def _wrong(quiz):
    return {q.id: {next(c.id for c in q.choices if not c.is_correct)} for q in quiz.questions}


def _audits(action):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).filter_by(action=action)
    )


# Window in the institution's zone ------------------------------------------------


def test_window_is_entered_in_shanghai_time(quiz, trainer):
    year = datetime.now(UTC).year + 1
    data = {
        **{name: str(value) for name, value in authoring.quiz_form_values(quiz).items()},
        "opens_at": f"{year}-09-01T09:00",
        "closes_at": f"{year}-09-01T10:00",
    }
    authoring.save_quiz(quiz.course, data, trainer, quiz)

    assert quiz.opens_at == datetime(year, 9, 1, 1, 0, tzinfo=UTC)
    assert quiz.closes_at == datetime(year, 9, 1, 2, 0, tzinfo=UTC)
    values = authoring.quiz_form_values(quiz)
    assert values["opens_at"] == f"{year}-09-01T09:00"


def test_start_at_window_boundaries(quiz, learner):
    quiz.opens_at = T0
    quiz.closes_at = T0 + timedelta(hours=1)

    with pytest.raises(services.AttemptError) as early:
        services.start_attempt(learner, quiz, now=T0 - timedelta(seconds=1))
    assert early.value.code == "not_open"
    attempt = services.start_attempt(learner, quiz, now=T0)
    assert attempt.started_at == T0
    services.submit_attempt(attempt, _wrong(quiz), now=T0 + timedelta(minutes=1))

    with pytest.raises(services.AttemptError) as late:
        services.start_attempt(learner, quiz, now=T0 + timedelta(hours=1))
    assert late.value.code == "closed"
    second = services.start_attempt(learner, quiz, now=T0 + timedelta(minutes=59, seconds=59))
    assert second.number == 2


def test_closing_time_ends_an_open_attempt(quiz, learner):
    quiz.closes_at = T0 + timedelta(minutes=30)
    quiz.time_limit_minutes = 60
    attempt = services.start_attempt(learner, quiz, now=T0)

    assert services.deadline(attempt) == T0 + timedelta(minutes=30)


def test_quiz_page_shows_times_in_shanghai(world, login, quiz):
    quiz.opens_at = T0
    quiz.closes_at = T0 + timedelta(days=400)
    db.session.commit()
    session = login("counselor1")
    session.post(f"/programmes/{world.programme}/enrol")

    page = session.get(f"/quizzes/{quiz.id}").get_data(as_text=True)

    assert "2026-09-01 09:00" in page


# Time limit and resume ---------------------------------------------------------------


def test_invalid_answer_keeps_the_saved_one(quiz, learner):
    attempt = services.start_attempt(learner, quiz, now=T0)
    first, second = quiz.questions
    services.save_answers(attempt, {second.id: _right(quiz)[second.id]}, now=T0)
    ignored = []

    stored = services.save_answers(
        attempt, {second.id: {first.choices[0].id}}, now=T0, ignored=ignored
    )

    assert stored == 0
    assert ignored == [second.id]
    answer = next(a for a in attempt.answers if a.question_id == second.id)
    assert answer.response == sorted(_right(quiz)[second.id])


def test_answers_after_deadline_are_not_counted(quiz, learner):
    quiz.time_limit_minutes = 10
    attempt = services.start_attempt(learner, quiz, now=T0)
    first, second = quiz.questions
    services.save_answers(attempt, {first.id: _right(quiz)[first.id]}, now=T0 + timedelta(minutes=5))

    with pytest.raises(services.AttemptError) as caught:
        services.save_answers(
            attempt, {second.id: _right(quiz)[second.id]}, now=T0 + timedelta(minutes=11)
        )

    assert caught.value.code == "time_up"
    db.session.refresh(attempt)
    assert attempt.submitted_at == T0 + timedelta(minutes=10)
    assert attempt.closed_at_deadline is True
    assert attempt.score == Decimal("1")
    answers = {a.question_id: a for a in attempt.answers}
    assert answers[second.id].response is None
    assert answers[second.id].awarded == Decimal("0")


def test_save_within_grace_counts(quiz, learner):
    quiz.time_limit_minutes = 10
    attempt = services.start_attempt(learner, quiz, now=T0)
    at = T0 + timedelta(minutes=10) + services.SUBMIT_GRACE

    services.submit_attempt(attempt, _right(quiz), now=at)

    assert attempt.closed_at_deadline is False
    assert attempt.score == Decimal("2")


def test_late_submission_closes_at_deadline(quiz, learner):
    quiz.time_limit_minutes = 10
    attempt = services.start_attempt(learner, quiz, now=T0)

    services.submit_attempt(attempt, _right(quiz), now=T0 + timedelta(hours=2))

    assert attempt.submitted_at == T0 + timedelta(minutes=10)
    assert attempt.score == Decimal("0")
    assert attempt.closed_at_deadline is True


def test_resume_keeps_attempt_and_remaining_time(quiz, learner):
    quiz.time_limit_minutes = 20
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.save_answers(attempt, _right(quiz), now=T0 + timedelta(minutes=2))

    resumed = services.start_attempt(learner, quiz, now=T0 + timedelta(minutes=7))

    assert resumed.id == attempt.id
    assert services.seconds_left(resumed, T0 + timedelta(minutes=7)) == 13 * 60
    assert {a.question_id for a in resumed.answers} == {q.id for q in quiz.questions}


def test_expired_attempt_is_closed_on_next_start(quiz, learner):
    quiz.time_limit_minutes = 5
    first = services.start_attempt(learner, quiz, now=T0)

    second = services.start_attempt(learner, quiz, now=T0 + timedelta(minutes=30))

    assert second.id != first.id
    assert first.submitted_at == T0 + timedelta(minutes=5)
    assert second.number == 2


def test_close_expired_attempts_job(quiz, learner):
    quiz.time_limit_minutes = 5
    attempt = services.start_attempt(learner, quiz, now=T0)

    assert services.close_expired_attempts(T0 + timedelta(minutes=4)) == 0
    assert services.close_expired_attempts(T0 + timedelta(minutes=6)) == 1
    assert attempt.submitted_at == T0 + timedelta(minutes=5)


def test_close_expired_attempts_holds_write_lock(quiz, learner, monkeypatch):
    """On SQLite the job takes the write lock before it reads the attempts.

    The scheduled jobs start in threads of one process at the same second,
    and the others commit their run records then. A deferred transaction
    that has read cannot write after another connection committed, so the
    update failed with "database is locked" at every run and the attempt
    stayed open.
    """
    if db.engine.dialect.name != "sqlite":
        pytest.skip("checks SQLite's locking")
    import sqlite3

    quiz.time_limit_minutes = 5
    attempt = services.start_attempt(learner, quiz, now=T0)
    db.session.commit()
    path = db.engine.url.database
    close_if_expired = services.close_if_expired
    blocked = []

    def close_and_probe(attempt, now):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            blocked.append(False)
        except sqlite3.OperationalError:
            blocked.append(True)
        finally:
            other.close()
        return close_if_expired(attempt, now)

    monkeypatch.setattr(services, "close_if_expired", close_and_probe)

    assert services.close_expired_attempts(T0 + timedelta(minutes=6)) == 1
    assert blocked == [True]
    assert attempt.submitted_at == T0 + timedelta(minutes=5)


def test_scheduled_job_closes_abandoned_attempt(quiz, learner):
    quiz.time_limit_minutes = 5
    timed = services.start_attempt(learner, quiz, now=T0)
    services.save_answers(timed, _right(quiz), now=T0 + timedelta(minutes=1))
    attempt_id = timed.id
    db.session.commit()

    early = run_job_once("close_expired_attempts", now=T0 + timedelta(minutes=4))
    late = run_job_once("close_expired_attempts", now=T0 + timedelta(minutes=6))

    assert early.ok, early.error
    assert early.result == {"closed": 0}
    assert late.ok, late.error
    assert late.result == {"closed": 1}
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.submitted_at == T0 + timedelta(minutes=5)
    assert attempt.closed_at_deadline is True
    assert attempt.passed is True


def test_job_skips_attempts_without_deadline(quiz, learner):
    services.start_attempt(learner, quiz, now=T0)
    db.session.commit()

    run = run_job_once("close_expired_attempts", now=T0 + timedelta(days=400))

    assert run.result == {"closed": 0}
    assert services.open_attempt(learner, quiz) is not None


# Submission --------------------------------------------------------------------------


def test_double_submission_records_one(quiz, learner):
    attempt = services.start_attempt(learner, quiz, now=T0)

    services.submit_attempt(attempt, _wrong(quiz), now=T0 + timedelta(minutes=1))
    services.submit_attempt(attempt, _right(quiz), now=T0 + timedelta(minutes=2))

    assert attempt.submitted_at == T0 + timedelta(minutes=1)
    assert attempt.score == Decimal("0")
    assert _audits("quiz.graded") == 1


def test_second_tab_submission_is_ignored(quiz, learner):
    attempt = services.start_attempt(learner, quiz, now=T0)
    db.session.commit()
    other_tab = db.session.get(Attempt, attempt.id)
    services.submit_attempt(attempt, _right(quiz), now=T0 + timedelta(minutes=1))
    db.session.commit()

    # The other tab's copy was loaded before the first submission landed.
    db.session.expire(other_tab, ["submitted_at"])
    services.submit_attempt(other_tab, _wrong(quiz), now=T0 + timedelta(minutes=2))

    assert other_tab.score == Decimal("2")
    assert _audits("quiz.graded") == 1


def test_saving_after_submission_is_rejected(quiz, learner):
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, _wrong(quiz), now=T0)

    with pytest.raises(services.AttemptError) as caught:
        services.save_answers(attempt, _right(quiz), now=T0)
    assert caught.value.code == "submitted"


# Grants ------------------------------------------------------------------------------


def test_extra_attempt_after_limit(quiz, learner, trainer):
    quiz.max_attempts = 1
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, _wrong(quiz), now=T0)
    with pytest.raises(services.AttemptError):
        services.start_attempt(learner, quiz, now=T0)

    marking.set_grant(quiz, learner, {"extra_attempts": "1", "reason": "病假"}, trainer)

    assert services.attempts_left(learner, quiz) == 1
    assert services.start_attempt(learner, quiz, now=T0).number == 2
    assert _audits("quiz.grant_set") == 1


def test_extra_time_moves_deadline(quiz, learner, trainer):
    quiz.time_limit_minutes = 10
    attempt = services.start_attempt(learner, quiz, now=T0)
    marking.set_grant(quiz, learner, {"extra_minutes": "15", "reason": "残障便利"}, trainer)

    services.save_answers(attempt, _right(quiz), now=T0 + timedelta(minutes=20))
    services.submit_attempt(attempt, None, now=T0 + timedelta(minutes=24))

    assert attempt.closed_at_deadline is False
    assert attempt.score == Decimal("2")


def test_grant_needs_reason(quiz, learner, trainer):
    with pytest.raises(Exception) as caught:
        marking.set_grant(quiz, learner, {"extra_attempts": "-1"}, trainer)
    assert set(caught.value.errors) == {"extra_attempts", "reason"}


# Grading methods -----------------------------------------------------------------------


def _three_attempts(quiz, learner):
    """Score 1/2, then 0/2, then 2/2: 50%, 0%, 100%."""
    quiz.max_attempts = None
    quiz.pass_mark = 100
    first, second = quiz.questions
    for answers in (
        {first.id: _right(quiz)[first.id]},
        _wrong(quiz),
        _right(quiz),
    ):
        attempt = services.start_attempt(learner, quiz, now=T0)
        services.submit_attempt(attempt, answers, now=T0)


@pytest.mark.parametrize(
    "method, expected",
    [
        (GradingMethod.HIGHEST, Decimal("100.00")),
        (GradingMethod.LAST, Decimal("100.00")),
        (GradingMethod.AVERAGE, Decimal("50.00")),
    ],
)
def test_grading_methods(quiz, learner, method, expected):
    _three_attempts(quiz, learner)
    quiz.grading_method = method

    assert services.quiz_grade(learner, quiz) == expected


def test_last_attempt_method_uses_the_latest(quiz, learner):
    quiz.max_attempts = None
    quiz.pass_mark = 100
    quiz.grading_method = GradingMethod.LAST
    first = quiz.questions[0]
    for answers in (_wrong(quiz), {first.id: _right(quiz)[first.id]}):
        attempt = services.start_attempt(learner, quiz, now=T0)
        services.submit_attempt(attempt, answers, now=T0)

    assert services.quiz_grade(learner, quiz) == Decimal("50.00")
    assert services.has_passed(learner, quiz) is False


def test_average_below_pass_mark_does_not_pass(quiz, learner):
    quiz.max_attempts = None
    quiz.pass_mark = 60
    quiz.grading_method = GradingMethod.AVERAGE
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, _wrong(quiz), now=T0)
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, _right(quiz), now=T0)

    assert attempt.passed is True
    assert services.quiz_grade(learner, quiz) == Decimal("50.00")
    assert services.has_passed(learner, quiz) is False


# Review options --------------------------------------------------------------------------


def test_review_after_close_hides_until_closed(quiz, learner):
    quiz.review_correct = ReviewTiming.AFTER_CLOSE
    quiz.review_score = ReviewTiming.NEVER
    quiz.closes_at = T0 + timedelta(days=1)
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, _right(quiz), now=T0)

    before = review.options(attempt, T0 + timedelta(hours=1))
    after = review.options(attempt, T0 + timedelta(days=1))

    assert before == {"score": False, "responses": True, "correct": False, "feedback": True}
    assert after["correct"] is True
    assert after["score"] is False


def test_review_after_final_waits_for_last_attempt(quiz, learner):
    quiz.max_attempts = 2
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, _wrong(quiz), now=T0)
    assert review.visible(attempt, "correct", T0) is False

    last = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(last, _wrong(quiz), now=T0)

    assert review.visible(attempt, "correct", T0) is True


# Random draws and shuffling ------------------------------------------------------------


@pytest.fixture
def drawn_quiz(world, trainer):
    bank = banks.create_bank(world.uni_a, {"name": "心理健康题库"}, trainer)
    top = bank.categories[0]
    for number in range(1, 11):
        banks.save_bank_question(
            top,
            {
                "kind": "single",
                "text": f"题{number}",
                "points": "1",
                "choice_1": "甲",
                "choice_2": "乙",
                "choice_3": "丙",
                "correct_1": "1",
            },
            trainer,
        )
    course = db.session.get(Course, world.course2)
    quiz = Quiz(course_id=course.id, title="抽题测验", max_attempts=None, pass_mark=100)
    quiz.shuffle_questions = True
    quiz.shuffle_choices = True
    quiz.draws.append(QuizDraw(category_id=top.id, count=5))
    db.session.add(quiz)
    db.session.flush()
    return quiz


def _layout(attempt):
    return [(slot.question_id, list(slot.choice_order)) for slot in attempt.questions]


def test_draw_takes_n_from_category(drawn_quiz, learner):
    attempt = services.start_attempt(learner, drawn_quiz, now=T0)

    ids = [slot.question_id for slot in attempt.questions]
    assert len(ids) == 5
    assert len(set(ids)) == 5
    assert attempt.max_score == Decimal("5")


def test_layout_is_stable_per_attempt(drawn_quiz, learner):
    attempt = services.start_attempt(learner, drawn_quiz, now=T0)
    layout = _layout(attempt)
    db.session.expire_all()

    resumed = services.start_attempt(learner, drawn_quiz, now=T0 + timedelta(minutes=1))
    rng = services.layout_random(drawn_quiz, learner, 1)
    replayed = [q.id for q in services.draw_questions(drawn_quiz, rng)]

    assert _layout(resumed) == layout
    assert sorted(replayed) == sorted(qid for qid, _order in layout)


def test_next_attempt_gets_new_layout(drawn_quiz, learner):
    first = services.start_attempt(learner, drawn_quiz, now=T0)
    services.submit_attempt(first, {}, now=T0)
    second = services.start_attempt(learner, drawn_quiz, now=T0)

    assert _layout(first) != _layout(second)


def test_draw_larger_than_category_is_rejected(drawn_quiz, learner, trainer):
    category = drawn_quiz.draws[0].category
    with as_draft(drawn_quiz.course), pytest.raises(Exception) as caught:
        authoring.save_draw(drawn_quiz, category, {"count": "11"}, trainer)
    assert "has 10 questions" in caught.value.errors["count"]


# Manual essay grading ---------------------------------------------------------------------


def test_essay_is_graded_by_hand_per_point(world, quiz, learner, trainer):
    with as_draft(quiz.course):
        essay = authoring.save_question(
            quiz,
            {
                "kind": "essay",
                "text": "如何开展谈心谈话？",
                "points": "5",
                "scoring_points": "2 | 倾听\n3 | 引导",
            },
            trainer,
        )
    attempt = services.start_attempt(learner, quiz, now=T0)
    answers = _right(quiz)
    answers[essay.id] = "先倾听，再引导。"
    services.submit_attempt(attempt, answers, now=T0)

    assert attempt.needs_grading is True
    assert attempt.passed is False
    assert attempt.score == Decimal("2")
    [queued] = marking.grading_queue(db.session.get(User, world.admin))
    assert queued.question_id == essay.id

    marking.grade_essay(queued, {"point_1": "2", "point_2": "1.5", "comment": "引导不足"}, trainer)

    assert queued.awarded == Decimal("3.5")
    assert queued.point_scores == ["2", "1.5"]
    assert attempt.needs_grading is False
    assert attempt.score == Decimal("5.5")
    assert attempt.passed is True
    assert marking.grading_queue(db.session.get(User, world.admin)) == []
    assert _audits("quiz.essay_graded") == 1
    assert _audits("quiz.regraded") == 1


def test_essay_score_above_point_maximum_is_rejected(quiz, learner, trainer):
    with as_draft(quiz.course):
        essay = authoring.save_question(
            quiz,
            {"kind": "essay", "text": "论述", "points": "2", "scoring_points": "2 | 要点"},
            trainer,
        )
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, {essay.id: "回答"}, now=T0)
    answer = db.session.scalar(sa.select(AttemptAnswer).filter_by(question_id=essay.id))

    with pytest.raises(Exception) as caught:
        marking.grade_essay(answer, {"point_1": "2.5"}, trainer)

    assert "from 0 to 2" in caught.value.errors["point_1"]
    assert answer.awarded is None


def test_parallel_autosave_writes_over_row(quiz, learner):
    attempt = services.start_attempt(learner, quiz, now=T0)
    db.session.commit()
    question = quiz.questions[1]
    assert attempt.answers == []
    # Another request stores the same answer row between this one's read and write.
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(AttemptAnswer).values(
                attempt_id=attempt.id,
                question_id=question.id,
                response=[question.choices[0].id],
                point_scores=[],
                comment="",
            )
        )

    stored = services.save_answers(attempt, _right(quiz), now=T0 + timedelta(minutes=1))
    db.session.commit()

    assert stored == 2
    rows = db.session.scalars(sa.select(AttemptAnswer).filter_by(attempt_id=attempt.id)).all()
    assert len(rows) == 2
    saved = {row.question_id: row.response for row in rows}
    assert saved[question.id] == sorted(_right(quiz)[question.id])


def test_attempt_questions_insert_statements(drawn_quiz, learner, monkeypatch):
    """SQLite inserts the rows in chunks; PostgreSQL inserts them with the attempt."""
    monkeypatch.setattr(services, "ATTEMPT_QUESTIONS_PER_INSERT", 2)
    inserts = []

    def record(conn, cursor, statement, *rest):
        if statement.startswith(("INSERT INTO attempt", "WITH new_attempt")):
            inserts.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        attempt = services.start_attempt(learner, drawn_quiz, now=T0)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    layout = _layout(attempt)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Attempt, attempt.id)
    if db.engine.dialect.name == "postgresql":
        assert len(inserts) == 1
        assert inserts[0].startswith("WITH new_attempt")
    else:
        assert [statement.split(" (")[0] for statement in inserts] == [
            "INSERT INTO attempt"
        ] + ["INSERT INTO attempt_question"] * 3
    assert [slot.position for slot in stored.questions] == [1, 2, 3, 4, 5]
    assert _layout(stored) == layout
    assert all(len(order) == 3 for _question, order in layout)


def _essay_answer(quiz, learner, trainer, scoring_points="2 | 职责边界\n3 | 转介流程"):
    with as_draft(quiz.course):
        essay = authoring.save_question(
            quiz,
            {"kind": "essay", "text": "论述", "points": "5", "scoring_points": scoring_points},
            trainer,
        )
    attempt = services.start_attempt(learner, quiz, now=T0)
    services.submit_attempt(attempt, {essay.id: "回答"}, now=T0)
    return db.session.scalar(sa.select(AttemptAnswer).filter_by(question_id=essay.id))


def test_essay_grade_error_names_scoring_point(quiz, learner, trainer, english):
    answer = _essay_answer(quiz, learner, trainer)

    with pytest.raises(Exception) as caught:
        marking.grade_essay(answer, {"point_1": "abc", "point_2": ""}, trainer)

    errors = caught.value.errors
    assert errors["point_1"].startswith("Scoring point 1 (职责边界): enter a score from 0 to 2")
    assert errors["point_2"].startswith("Scoring point 2 (转介流程): enter a score from 0 to 3")
    assert answer.awarded is None


def test_essay_grade_rejects_three_decimals(quiz, learner, trainer, english):
    answer = _essay_answer(quiz, learner, trainer)

    with pytest.raises(Exception) as caught:
        marking.grade_essay(answer, {"point_1": "1.555", "point_2": "2.25"}, trainer)

    assert "at most two decimal places" in caught.value.errors["point_1"]
    assert "point_2" not in caught.value.errors
    assert answer.awarded is None


def test_scoring_points_name_every_bad_line(quiz, trainer, english):
    with as_draft(quiz.course), pytest.raises(Exception) as caught:
        authoring.save_question(
            quiz,
            {"kind": "essay", "text": "论述", "points": "5", "scoring_points": "职责边界\n转介流程"},
            trainer,
        )

    assert caught.value.errors["scoring_points"].startswith("Lines 1, 2: write the points")
