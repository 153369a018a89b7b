"""Quiz pages: overview, the attempt form with autosave, submission and review."""

from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from assessments import grading, logger, review, services
from assessments.models import Attempt, Quiz, QuizGrant
from assessments.responses import parse_form
from courses import services as course_services
from lms.accounts.access import LEARNER_ROLES, roles_required
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import format_datetime, join_names

bp = Blueprint("assessments", __name__)


def _load_quiz(quiz_id: int) -> Quiz:
    """Load a quiz whose course the current user may open, or abort with 404."""
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or not course_services.can_view_course(current_user, quiz.course):
        abort(404)
    return quiz


def _load_own_attempt(attempt_id: int) -> Attempt:
    """Load an attempt of the current user with its quiz; anyone else's attempt is a 404.

    Every view of an attempt reads its quiz, so the quiz comes in the same query.
    """
    attempt = db.session.get(Attempt, attempt_id, options=[so.joinedload(Attempt.quiz)])
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


def _load_own_attempt_and_deadline(attempt_id: int) -> tuple[Attempt, Optional[datetime]]:
    """Load an attempt of the current user with its quiz and return it with its deadline.

    The learner's extra time at the quiz comes in the same query, so an
    autosave or a reload of a timed attempt costs no statement for it.
    """
    row = db.session.execute(
        sa.select(Attempt, QuizGrant)
        .outerjoin(
            QuizGrant,
            sa.and_(QuizGrant.quiz_id == Attempt.quiz_id, QuizGrant.user_id == Attempt.user_id),
        )
        .options(so.joinedload(Attempt.quiz))
        .where(Attempt.id == attempt_id)
    ).one_or_none()
    if row is None or row.Attempt.user_id != current_user.id:
        abort(404)
    return row.Attempt, services.deadline(row.Attempt, row.QuizGrant)


def start_error_message(code: str, quiz: Quiz) -> str:
    messages = {
        "not_open": _("This quiz is not open yet."),
        "closed": _("This quiz is closed."),
        "passed": _("You have already passed this quiz."),
        "not_enough_questions": _(
            "This quiz cannot be started: a question category has fewer questions"
            " than the quiz draws. Tell the trainer."
        ),
    }
    if code == "locked":
        missing = course_services.missing_prerequisites(current_user, quiz.course)
        return _(
            "Complete %(titles)s before taking this quiz.",
            titles=join_names(each.title for each in missing),
        )
    if code == "no_attempts":
        allowed = services.allowed_attempts(current_user, quiz) or 0
        return ngettext(
            "You have used your only attempt at this quiz.",
            "You have used all %(num)d attempts at this quiz.",
            allowed,
        )
    return messages.get(
        code, _("The attempt could not be started. Reload the page and try again.")
    )


@bp.route("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id: int):
    quiz = _load_quiz(quiz_id)
    now = now_utc()
    attempts, open_attempt, passed, attempts_left, grade = [], None, False, None, None
    locked_by = []
    if current_user.role.is_learner:
        locked_by = course_services.missing_prerequisites(current_user, quiz.course)
        open_attempt = services.open_attempt(current_user, quiz)
        if open_attempt is not None and services.close_if_expired(open_attempt, now):
            db.session.commit()
            open_attempt = None
        attempts = services.attempts_for(current_user, quiz)
        passed = services.has_passed(current_user, quiz)
        attempts_left = services.attempts_left(current_user, quiz)
        grade = services.quiz_grade(current_user, quiz)
    review_score = {a.id: review.visible(a, "score", now) for a in attempts}
    if not all(review_score[a.id] for a in attempts if a.submitted_at is not None):
        # The grade combines every attempt, so it would reveal a score that
        # the quiz's review options still hide.
        grade = None
    window = services.window_error(quiz, now)
    can_start = current_user.role.is_learner and (
        open_attempt is not None
        or (
            not passed
            and not locked_by
            and window is None
            and (attempts_left is None or attempts_left > 0)
        )
    )
    return render_template(
        "assessments/quiz.html",
        quiz=quiz,
        attempts=[a for a in attempts if a.submitted_at is not None],
        attempts_used=len(attempts),
        allowed_attempts=services.allowed_attempts(current_user, quiz),
        open_attempt=open_attempt,
        passed=passed,
        grade=grade,
        window=window,
        can_start=can_start,
        locked_by=locked_by,
        review_score=review_score,
    )


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def start(quiz_id: int):
    user = current_user._get_current_object()
    context = services.load_start_context(user, quiz_id)
    if context is None or not course_services.can_view_course(
        user, context.quiz.course, context.standing
    ):
        abort(404)
    quiz = context.quiz
    try:
        attempt = services.start_attempt(user, quiz, context=context)
    except services.AttemptError as error:
        logger.info("Start of quiz %s by %r rejected: %s", quiz.id, user, error)
        db.session.commit()
        flash(start_error_message(error.code, quiz), "error")
        return redirect(url_for("assessments.quiz", quiz_id=quiz.id))
    # Read before the commit expires the attempt, which would cost a query.
    attempt_id = attempt.id
    db.session.commit()
    return redirect(url_for("assessments.attempt", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt, limit = _load_own_attempt_and_deadline(attempt_id)
    now = now_utc()
    if services.close_if_expired(attempt, now, limit):
        db.session.commit()
        flash(_("The time ran out, so the attempt was closed."), "error")
    if attempt.submitted_at is not None:
        return redirect(url_for("assessments.result", attempt_id=attempt.id))
    return render_template(
        "assessments/attempt.html",
        attempt=attempt,
        quiz=attempt.quiz,
        responses={a.question_id: a.response for a in attempt.answers},
        seconds_left=services.seconds_left(attempt, now, limit),
    )


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@login_required
def save_answers(attempt_id: int):
    """Autosave: store the answers the form carries and report the time left as JSON."""
    attempt, limit = _load_own_attempt_and_deadline(attempt_id)
    result_url = url_for("assessments.result", attempt_id=attempt.id)
    try:
        slots = services.load_slots(attempt, with_answers=True)
        ignored: list[int] = []
        responses = parse_form(slots, request.form, ignored)
        saved = services.save_answers(attempt, responses, ignored=ignored, limit=limit)
    except services.AttemptError as error:
        db.session.commit()
        message = (
            _("The time ran out, so the attempt was closed.")
            if error.code == "time_up"
            else _("This attempt was already submitted.")
        )
        return jsonify(error=error.code, message=message, redirect=result_url), 409
    now = now_utc()
    # Computed before the commit expires the attempt and its quiz.
    seconds_left = services.seconds_left(attempt, now, limit)
    db.session.commit()
    return jsonify(
        saved=saved, ignored=ignored, saved_at=now.isoformat(), seconds_left=seconds_left
    )


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    attempt = _load_own_attempt(attempt_id)
    if attempt.submitted_at is not None:
        # A second tab or a back-navigated page posts answers that are not saved.
        flash(
            _(
                "This attempt had already been submitted on %(when)s, perhaps from "
                "another tab or window. The answers on this page were not saved, and "
                "the answers of that submission count.",
                when=format_datetime(attempt.submitted_at, "short"),
            ),
            "warning",
        )
    else:
        ignored: list[int] = []
        slots = services.load_slots(attempt)
        responses = parse_form(slots, request.form, ignored)
        if ignored and not services.is_expired(attempt, now_utc()):
            # Grading now would count the response saved earlier, not the one the
            # learner chose, so only the valid responses are saved for a recheck.
            services.save_answers(attempt, responses)
            db.session.commit()
            numbers = [
                str(number)
                for number, slot in enumerate(slots, start=1)
                if slot.question_id in ignored
            ]
            flash(
                _(
                    "The answers to questions %(numbers)s are not among their options, "
                    "so the attempt was not submitted. The page may be out of date: "
                    "reload it, check those answers and submit again.",
                    numbers=join_names(numbers),
                ),
                "error",
            )
            return redirect(url_for("assessments.attempt", attempt_id=attempt.id))
        services.submit_attempt(attempt, responses)
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
    answers = {answer.question_id: answer for answer in attempt.answers}
    return render_template(
        "assessments/result.html",
        attempt=attempt,
        quiz=quiz,
        course=course,
        answers=answers,
        zero=Decimal(0),
        show=review.options(attempt),
        matched_answer=grading.matched_answer,
        course_completion=course_services.find_completion(current_user, course),
        completed_enrolments=course_services.completed_enrolments_for_course(
            current_user, course
        ),
        attempts_left=services.attempts_left(current_user, quiz),
        passed_quiz=services.has_passed(current_user, quiz),
    )
