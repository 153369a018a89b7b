"""Quiz attempts: start or resume, grade on the server, submit once."""

from datetime import timedelta
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from assessments import logger
from assessments.models import Attempt, AttemptAnswer, Question, QuestionKind, Quiz
from courses import services as course_services
from courses.models import Course
from lms import audit, signals
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.records.services import local_date

#: Grace period for network latency between the deadline and the submission.
SUBMIT_GRACE = timedelta(seconds=30)


class AttemptError(Exception):
    """The attempt cannot be started or submitted. The message gives the reason."""


def attempts_for(user: User, quiz: Quiz) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt).filter_by(user_id=user.id, quiz_id=quiz.id).order_by(Attempt.number)
        )
    )


def open_attempt(user: User, quiz: Quiz) -> Optional[Attempt]:
    return db.session.scalar(
        sa.select(Attempt).filter_by(user_id=user.id, quiz_id=quiz.id, submitted_at=None)
    )


def has_passed(user: User, quiz: Quiz) -> bool:
    return (
        db.session.scalar(
            sa.select(Attempt.id)
            .filter_by(user_id=user.id, quiz_id=quiz.id, passed=True)
            .limit(1)
        )
        is not None
    )


def start_attempt(user: User, quiz: Quiz) -> Attempt:
    """Resume the open attempt, or start the next one within the attempt limit."""
    current = open_attempt(user, quiz)
    if current is not None:
        return current
    used = len(attempts_for(user, quiz))
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise AttemptError("no attempts left")
    if has_passed(user, quiz):
        raise AttemptError("already passed")

    attempt = Attempt(quiz_id=quiz.id, user_id=user.id, number=used + 1, max_score=quiz.max_score)
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # A parallel request started the same attempt number first.
        return open_attempt(user, quiz) or attempts_for(user, quiz)[-1]
    logger.info("Attempt %s at quiz %s started by %r", attempt.number, quiz.id, user)
    return attempt


def deadline(attempt: Attempt):
    """Return when the attempt's time runs out, or None if the quiz is untimed."""
    minutes = attempt.quiz.time_limit_minutes
    if minutes is None:
        return None
    return attempt.started_at + timedelta(minutes=minutes)


def grade_question(question: Question, selected: set[int]) -> Decimal:
    """Score one answer: full points for exactly the correct set, else zero."""
    correct = {c.id for c in question.choices if c.is_correct}
    if question.kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and len(selected) != 1:
        return Decimal(0)
    return question.points if selected == correct else Decimal(0)


def submit_attempt(attempt: Attempt, answers: dict[int, set[int]]) -> Attempt:
    """Grade and close the attempt; a second submission changes nothing.

    ``answers`` maps question id to the selected choice ids. Choice ids that
    do not belong to the question are ignored. A submission after the time
    limit (plus a short grace) is graded with no answers counted.
    """
    if attempt.submitted_at is not None:
        return attempt
    submitted_at = now_utc()
    limit = deadline(attempt)
    late = limit is not None and submitted_at > limit + SUBMIT_GRACE

    score = Decimal(0)
    rows = []
    for question in attempt.quiz.questions:
        valid_ids = {c.id for c in question.choices}
        selected = set() if late else set(answers.get(question.id, set())) & valid_ids
        awarded = grade_question(question, selected)
        score += awarded
        rows.append(
            AttemptAnswer(
                question_id=question.id, selected_choice_ids=sorted(selected), awarded=awarded
            )
        )
    max_score = attempt.quiz.max_score
    passed = max_score > 0 and score * 100 >= max_score * attempt.quiz.pass_mark

    # Only the request whose update matches an open attempt records the result,
    # so a double click or a second tab cannot submit twice.
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=submitted_at, score=score, max_score=max_score, passed=passed)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(attempt)
        return attempt
    for row in rows:
        row.attempt_id = attempt.id
        db.session.add(row)
    db.session.flush()
    db.session.refresh(attempt)

    user = attempt.user
    audit.record(
        "quiz.graded",
        "attempt",
        attempt.id,
        f"{attempt.quiz.title}: {score}/{max_score}{' late' if late else ''}",
        actor_id=user.id,
        institution_id=user.institution_id,
        data={"score": str(score), "max_score": str(max_score), "passed": passed, "late": late},
    )
    logger.info("Attempt %s graded %s/%s for %r", attempt.id, score, max_score, user)
    if passed:
        signals.quiz_passed.send(
            None,
            user_id=user.id,
            quiz_id=attempt.quiz_id,
            attempt_id=attempt.id,
            score=score,
            max_score=max_score,
            passed_on=local_date(user, submitted_at),
            competency_item_ids=[item.id for item in attempt.quiz.course.competencies],
        )
        course_services.evaluate_course(user, attempt.quiz.course)
    return attempt


def quizzes_passed(user: User, course: Course) -> Optional[str]:
    """Completion check: every quiz of the course has a passed attempt."""
    quiz_ids = db.session.scalars(sa.select(Quiz.id).filter_by(course_id=course.id)).all()
    if not quiz_ids:
        return None
    passed = set(
        db.session.scalars(
            sa.select(Attempt.quiz_id)
            .where(Attempt.user_id == user.id, Attempt.quiz_id.in_(quiz_ids), Attempt.passed)
        )
    )
    missing = len(set(quiz_ids) - passed)
    return f"quizzes:{missing}" if missing else None


def connect_listeners() -> None:
    course_services.register_completion_check(quizzes_passed)


def quizzes_for_course(course: Course) -> list[Quiz]:
    return list(
        db.session.scalars(
            sa.select(Quiz).filter_by(course_id=course.id).order_by(Quiz.id)
        )
    )


def attempts_left(user: User, quiz: Quiz) -> Optional[int]:
    """Return how many attempts the learner may still start; None means unlimited."""
    if quiz.max_attempts is None:
        return None
    return max(quiz.max_attempts - len(attempts_for(user, quiz)), 0)


def may_see_answers(user: User, quiz: Quiz) -> bool:
    """Return whether the review may show correct choices and explanations.

    The key is shown only after a pass or the last attempt, because earlier
    a failed learner could copy it into the next attempt.
    """
    return has_passed(user, quiz) or attempts_left(user, quiz) == 0


def was_late(attempt: Attempt) -> bool:
    """Return whether a submitted attempt arrived after its deadline and grace.

    This repeats the test ``submit_attempt`` applied, on the stored
    ``submitted_at``, so a late attempt's answers were not counted.
    """
    limit = deadline(attempt)
    if attempt.submitted_at is None or limit is None:
        return False
    return attempt.submitted_at > limit + SUBMIT_GRACE
