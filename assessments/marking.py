"""Trainer actions on learners' attempts: essay grading and per-learner grants."""

import dataclasses
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from assessments import grading, logger, services
from assessments.models import Attempt, AttemptAnswer, Question, Quiz, QuizGrant
from certificates import basis as certificate_basis
from certificates import services as certificate_services
from certificates.models import Certificate
from courses import teaching
from courses.authoring import AuthoringError, optional_int, text_field
from courses.models import Course, CourseCompletion
from lms import audit, revisions
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import join_names
from lms.input_ranges import typed_decimal


def grading_queue(grader: User) -> list[AttemptAnswer]:
    """Return submitted essay answers awaiting a grade on courses ``grader`` may grade.

    Those are the courses the grader teaches, or every course of the
    institution for an administrator (see ``courses.teaching``).
    """
    return list(
        db.session.scalars(
            sa.select(AttemptAnswer)
            .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .join(Course, Course.id == Quiz.course_id)
            .where(
                teaching.gradable_clause(grader, Course.id),
                Attempt.submitted_at.is_not(None),
                AttemptAnswer.awarded.is_(None),
            )
            .order_by(Attempt.submitted_at, AttemptAnswer.id)
            .options(
                so.joinedload(AttemptAnswer.attempt).joinedload(Attempt.quiz),
                so.joinedload(AttemptAnswer.attempt).joinedload(Attempt.user),
                so.joinedload(AttemptAnswer.question),
            )
        )
    )


def scoring_points(question: Question) -> list[dict]:
    """Return the essay's scoring points, or one point worth the whole question."""
    points = question.answer_key.get("points") or []
    if points:
        return points
    return [{"text": _("Overall"), "max": str(question.points)}]


@dataclasses.dataclass(frozen=True)
class KeptAchievements:
    """A learner's course completion and valid certificates that rest on a quiz's course.

    A grade that turns a passed attempt into a not-passed one withdraws
    neither: revoking a certificate is a separate, audited act of HR.
    """

    completion: Optional[CourseCompletion] = None
    certificates: list[Certificate] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return self.completion is not None or bool(self.certificates)

    @property
    def serials(self) -> list[str]:
        return [cert.serial for cert in self.certificates]


def kept_achievements(attempt: Attempt) -> KeptAchievements:
    """Return the completion and valid certificates of the attempt's learner and course."""
    course = attempt.quiz.course
    completion = db.session.scalar(
        sa.select(CourseCompletion).filter_by(user_id=attempt.user_id, course_id=course.id)
    )
    certificates = certificate_services.valid_certificates_on_course(
        attempt.user_id, course.id
    )
    return KeptAchievements(completion, certificates)


def _passes_with(answer: AttemptAnswer, awarded: Decimal) -> bool:
    """Return whether the attempt passes once ``answer`` is worth ``awarded``."""
    values = [
        awarded if other.id == answer.id else other.awarded
        for other in answer.attempt.answers
    ]
    if any(value is None for value in values):
        return False
    return services.passes_mark(answer.attempt, sum(values, Decimal(0)))


def _kept_warning(kept: KeptAchievements, course: Course) -> str:
    """Return the message requesting the grader's confirmation of a pass turned into a fail."""
    if kept.certificates:
        return _(
            "This grade turns a passed attempt into a not-passed one. The course "
            "completion of %(course)s and the certificates %(serials)s rest on it "
            "and are not withdrawn by this grade. Tick the box to save it anyway.",
            course=course.title,
            serials=join_names(kept.serials),
        )
    return _(
        "This grade turns a passed attempt into a not-passed one. The course "
        "completion of %(course)s rests on it and is not withdrawn by this grade. "
        "Tick the box to save it anyway.",
        course=course.title,
    )


def _check_pass_reversal(
    answer: AttemptAnswer, awarded: Decimal, data: dict
) -> KeptAchievements:
    """Return what a pass-to-fail grade keeps, or raise AuthoringError if unconfirmed.

    The form field ``confirm_kept`` carries the confirmation.
    """
    attempt = answer.attempt
    if not attempt.passed or _passes_with(answer, awarded):
        return KeptAchievements()
    kept = kept_achievements(attempt)
    if kept and not data.get("confirm_kept"):
        raise AuthoringError({"confirm_kept": _kept_warning(kept, attempt.quiz.course)})
    return kept


def grade_essay(
    answer: AttemptAnswer, data: dict, grader: User, version: Optional[str] = None
) -> KeptAchievements:
    """Store a trainer's per-point scores and comment for an essay answer.

    Fields ``point_1`` .. ``point_N`` hold the scores and ``comment`` the
    comment. Regrading is allowed; every change is audited. Raises
    PermissionError, before anything is stored, when the grader may not
    grade the quiz's course (see ``courses.teaching``). A grade that
    turns a passed attempt into a not-passed one while a course completion
    or certificate rests on the quiz's course needs ``confirm_kept``. The
    return value lists what such a grade kept, and is empty otherwise.
    ``version`` is the ``grade_version`` the grading page showed. Raises
    ``revisions.StaleGrade`` when another grade was saved since, and None
    skips that check.
    """
    if not teaching.may_grade(grader, answer.attempt.quiz.course):
        raise PermissionError(f"{grader!r} does not teach the quiz's course")
    errors: dict[str, str] = {}
    scores: list[Decimal] = []
    for index, point in enumerate(scoring_points(answer.question), start=1):
        field = f"point_{index}"
        maximum = Decimal(str(point["max"]))
        value = typed_decimal(data.get(field))
        # Scores keep two decimal places, as moderated and rubric scores do.
        valid = (
            value is not None
            and value.is_finite()
            and 0 <= value <= maximum
            and value.as_tuple().exponent >= -2
        )
        if not valid:
            errors[field] = _(
                "Scoring point %(number)d (%(point)s): enter a score from 0 to %(max)s "
                "with at most two decimal places, e.g. 1.5.",
                number=index,
                point=point["text"][:40],
                max=maximum,
            )
            continue
        scores.append(value)
    comment = text_field(data, "comment", errors, max_length=5000, required=False)
    if errors:
        raise AuthoringError(errors)
    awarded = grading.essay_total(answer.question, scores)
    kept = _check_pass_reversal(answer, awarded, data)
    if not revisions.advance(answer, "grade_version", version):
        raise revisions.StaleGrade()

    previous = answer.awarded
    pass_to_fail = bool(answer.attempt.passed) and not _passes_with(answer, awarded)
    answer.awarded = awarded
    answer.point_scores = [str(score) for score in scores]
    answer.comment = comment
    answer.graded_by_id = grader.id
    answer.graded_at = now_utc()
    attempt = answer.attempt
    audit.record(
        "quiz.essay_graded",
        "attempt_answer",
        answer.id,
        f"{attempt.quiz.title}: {answer.awarded}/{answer.question.points}"
        + (" (pass turned into fail)" if pass_to_fail else ""),
        actor_id=grader.id,
        institution_id=attempt.user.institution_id,
        data={
            "attempt_id": attempt.id,
            "previous": None if previous is None else str(previous),
            "awarded": str(answer.awarded),
            "point_scores": answer.point_scores,
            "comment": comment,
            "pass_to_fail": pass_to_fail,
            "kept_completion": kept.completion is not None,
            "kept_certificates": kept.serials,
        },
    )
    if pass_to_fail and kept.certificates:
        certificate_basis.record_failed_basis(
            kept.certificates, attempt.quiz.title, attempt.id, grader
        )
    services.regrade_attempt(attempt, grader)
    return kept


def learner_standings(quiz: Quiz) -> list[dict]:
    """Return each learner who attempted ``quiz`` with attempts used and allowed and grade."""
    learners = db.session.scalars(
        sa.select(User)
        .where(User.id.in_(sa.select(Attempt.user_id).filter_by(quiz_id=quiz.id)))
        .order_by(User.username)
    )
    return [
        {
            "user": learner,
            "used": len(services.attempts_for(learner, quiz)),
            "allowed": services.allowed_attempts(learner, quiz),
            "grade": services.quiz_grade(learner, quiz),
            "passed": services.has_passed(learner, quiz),
        }
        for learner in learners
    ]


def set_grant(quiz: Quiz, learner: User, data: dict, actor: User) -> QuizGrant:
    """Set a learner's extra minutes and extra attempts on ``quiz``, with a reason."""
    errors: dict[str, str] = {}
    minutes = optional_int(data, "extra_minutes", errors, minimum=0, maximum=24 * 60)
    attempts = optional_int(data, "extra_attempts", errors, minimum=0, maximum=100)
    reason = text_field(data, "reason", errors, max_length=500)
    if errors:
        raise AuthoringError(errors)

    grant: Optional[QuizGrant] = services.grant_for(learner, quiz)
    if grant is None:
        grant = QuizGrant(quiz_id=quiz.id, user_id=learner.id)
        db.session.add(grant)
    grant.extra_minutes = minutes or 0
    grant.extra_attempts = attempts or 0
    grant.reason = reason
    grant.granted_by_id = actor.id
    grant.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "quiz.grant_set",
        "quiz",
        quiz.id,
        f"{learner.username}: +{grant.extra_minutes} min, +{grant.extra_attempts} attempts",
        actor_id=actor.id,
        institution_id=learner.institution_id,
        data={
            "user_id": learner.id,
            "extra_minutes": grant.extra_minutes,
            "extra_attempts": grant.extra_attempts,
            "reason": reason,
        },
    )
    logger.info("Grant on quiz %s for %r set by %r", quiz.id, learner, actor)
    return grant
