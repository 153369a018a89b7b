"""Quiz pages: overview, the attempt form, submission and the graded result."""

from datetime import datetime
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from assessments import logger, services
from assessments.models import Attempt, Quiz
from courses import services as course_services
from lms.accounts.access import LEARNER_ROLES, roles_required
from lms.db import now_utc
from lms.extensions import db

bp = Blueprint("assessments", __name__)


def _load_quiz(quiz_id: int) -> Quiz:
    """Load a quiz whose course the current user may open, or abort with 404."""
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or not course_services.can_view_course(current_user, quiz.course):
        abort(404)
    return quiz


def _load_own_attempt(attempt_id: int) -> Attempt:
    """Load an attempt of the current user; anyone else's attempt is a 404."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


def parse_answers(form: MultiDict) -> dict[int, set[int]]:
    """Read ``q<question id>`` fields into sets of selected choice ids.

    Field names and values that are not integers are skipped, so a
    tampered form is graded on what remains instead of failing.
    """
    answers: dict[int, set[int]] = {}
    for name in form:
        if not name.startswith("q"):
            continue
        try:
            question_id = int(name[1:])
        except ValueError:
            continue
        selected = answers.setdefault(question_id, set())
        for value in form.getlist(name):
            try:
                selected.add(int(value))
            except ValueError:
                continue
    return answers


def _seconds_left(attempt: Attempt, now: datetime):
    limit = services.deadline(attempt)
    if limit is None:
        return None
    return max(int((limit - now).total_seconds()), 0)


def _start_error_message(error: services.AttemptError, quiz: Quiz) -> str:
    reason = str(error)
    if reason == "no attempts left":
        return _(
            "You have used all %(count)d attempts at this quiz.",
            count=quiz.max_attempts or 0,
        )
    if reason == "already passed":
        return _("You have already passed this quiz.")
    return _("The attempt could not be started. Reload the page and try again.")


@bp.route("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id: int):
    quiz = _load_quiz(quiz_id)
    attempts = []
    open_attempt = None
    passed = False
    attempts_left = None
    if current_user.role.is_learner:
        attempts = services.attempts_for(current_user, quiz)
        open_attempt = services.open_attempt(current_user, quiz)
        passed = services.has_passed(current_user, quiz)
        attempts_left = services.attempts_left(current_user, quiz)
    can_start = (
        current_user.role.is_learner
        and not passed
        and (open_attempt is not None or attempts_left is None or attempts_left > 0)
    )
    return render_template(
        "assessments/quiz.html",
        quiz=quiz,
        attempts=[a for a in attempts if a.submitted_at is not None],
        attempts_used=len(attempts),
        open_attempt=open_attempt,
        passed=passed,
        can_start=can_start,
    )


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def start(quiz_id: int):
    quiz = _load_quiz(quiz_id)
    try:
        attempt = services.start_attempt(current_user, quiz)
    except services.AttemptError as error:
        logger.info("Start of quiz %s by %r rejected: %s", quiz.id, current_user, error)
        flash(_start_error_message(error, quiz), "error")
        return redirect(url_for("assessments.quiz", quiz_id=quiz.id))
    db.session.commit()
    return redirect(url_for("assessments.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt = _load_own_attempt(attempt_id)
    if attempt.submitted_at is not None:
        return redirect(url_for("assessments.result", attempt_id=attempt.id))
    return render_template(
        "assessments/attempt.html",
        attempt=attempt,
        quiz=attempt.quiz,
        seconds_left=_seconds_left(attempt, now_utc()),
    )


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    attempt = _load_own_attempt(attempt_id)
    if attempt.submitted_at is None:
        services.submit_attempt(attempt, parse_answers(request.form))
        db.session.commit()
    return redirect(url_for("assessments.result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    attempt = _load_own_attempt(attempt_id)
    if attempt.submitted_at is None:
        return redirect(url_for("assessments.attempt", attempt_id=attempt.id))
    quiz = attempt.quiz
    course = quiz.course
    selected_by_question = {
        answer.question_id: set(answer.selected_choice_ids)
        for answer in attempt.answers
    }
    awarded_by_question = {
        answer.question_id: answer.awarded or Decimal(0) for answer in attempt.answers
    }
    return render_template(
        "assessments/result.html",
        attempt=attempt,
        quiz=quiz,
        course=course,
        late=services.was_late(attempt),
        selected_by_question=selected_by_question,
        awarded_by_question=awarded_by_question,
        course_completion=course_services.find_completion(current_user, course),
        completed_enrolments=course_services.completed_enrolments_for_course(
            current_user, course
        ),
        attempts_left=services.attempts_left(current_user, quiz),
        show_answers=services.may_see_answers(current_user, quiz),
    )
