"""The online anonymous student evaluation (学生评议) of a counselor's assessment.

HR opens an evaluation for one counselor's assessment with the number of
students the counselor serves, and receives at least the scheme's minimum
sample of single-use access codes to hand to randomly drawn students. Only
the SHA-256 digest of a code is stored, so codes are shown once, in the
download made when they are generated.

A student's submission marks the code used and stores the scores in a
separate row, which carries neither the code nor a time finer than the day.
The optional comment goes to a third table. HR reads aggregates per
dimension once the evaluation is closed, hidden below
``scoring.MIN_REPORTED_RESPONSES`` responses, and the evaluation's mean
becomes the student component's score when it closes. Aggregates that
changed with each response while the evaluation is open would tell HR one
student's scores and comment, by comparing the page before and after that
student responds.

Functions flush and leave the commit to the caller, like ``services``.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from lms import audit
from lms.accounts.models import User
from lms.annual_assessment import scoring, services
from lms.annual_assessment.models import (
    AnnualAssessment,
    AssessmentComponent,
    ComponentKind,
    EvaluationAnswer,
    EvaluationCode,
    EvaluationComment,
    EvaluationDimension,
    EvaluationResponse,
    StudentEvaluation,
)
from lms.db import now_utc
from lms.extensions import db

#: Letters and digits of a code, without 0, 1, I and O, which read alike.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: 24 characters of a 32-character alphabet carry 120 random bits, above
#: the 112 bits under which a stored digest would need a salted, slow hash.
CODE_LENGTH = 24
CODE_GROUP = 4

#: Most codes one request generates, so one download stays small.
MAX_CODES_PER_REQUEST = 2000
MAX_STUDENTS = 100000
MAX_COMMENT = 1000

AssessmentError = services.AssessmentError


class CodeRejected(Exception):
    """A student's code cannot be used; ``reason`` is unknown, void, used or closed."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Codes


def new_code() -> str:
    """Return a random code, grouped for reading: ABCD-EFGH-JKLM-NPQR-STUV-WXYZ."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normalise_code(text: str) -> Optional[str]:
    """Return the code's characters in upper case without separators, or None if malformed."""
    cleaned = "".join(ch for ch in (text or "")[:64].upper() if ch not in " -\t")
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def hash_code(code: str) -> str:
    """Return the hex SHA-256 digest stored for a normalised code.

    A code carries 120 random bits, so an unsalted digest cannot be reversed
    by trying codes.
    """
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _issue_codes(evaluation: StudentEvaluation, count: int) -> list[str]:
    codes = [new_code() for _ in range(count)]
    for code in codes:
        db.session.add(
            EvaluationCode(evaluation_id=evaluation.id, token_hash=hash_code(normalise_code(code)))
        )
    db.session.flush()
    return codes


def find_code(text: str) -> Optional[EvaluationCode]:
    normalised = normalise_code(text)
    if normalised is None:
        return None
    return db.session.scalar(
        sa.select(EvaluationCode).where(EvaluationCode.token_hash == hash_code(normalised))
    )


@dataclass(frozen=True)
class CodeCounts:
    """Numbers of an evaluation's codes: all issued, and the used and void among them."""

    issued: int
    used: int
    void: int

    @property
    def unused(self) -> int:
        """Codes that students can still use while the evaluation is open."""
        return self.issued - self.used - self.void

    @property
    def live(self) -> int:
        """Codes that are not void, which count towards one code per student."""
        return self.issued - self.void


def code_counts(evaluation: StudentEvaluation) -> CodeCounts:
    """Count the evaluation's codes: issued, used and void."""
    issued, used, void = db.session.execute(
        sa.select(
            sa.func.count(EvaluationCode.id),
            sa.func.count(EvaluationCode.id).filter(EvaluationCode.used.is_(True)),
            sa.func.count(EvaluationCode.id).filter(EvaluationCode.voided_at.is_not(None)),
        ).where(EvaluationCode.evaluation_id == evaluation.id)
    ).one()
    return CodeCounts(issued, used, void)


# HR: opening, codes, closing


def students_component(assessment: AnnualAssessment) -> Optional[AssessmentComponent]:
    return next(
        (c for c in assessment.scheme.components if c.kind is ComponentKind.STUDENTS), None
    )


def _whole_number(raw, field: str, label: str, low: int, high: int) -> int:
    text = str(raw if raw is not None else "").strip()
    value = int(text) if text.isascii() and text.isdigit() else None
    if value is None or not low <= value <= high:
        raise AssessmentError(
            field,
            _(
                "%(label)s: enter a whole number from %(low)s to %(high)s.",
                label=label,
                low=low,
                high=high,
            ),
        )
    return value


def lock(evaluation: StudentEvaluation) -> None:
    """Reload ``evaluation`` and hold its row until commit (see ``services.lock``)."""
    db.session.refresh(evaluation, with_for_update=True)


def open_evaluation(
    assessment: AnnualAssessment, actor: User, student_count, code_count=None
) -> tuple[StudentEvaluation, list[str]]:
    """Open the online evaluation of ``assessment`` and return it with its new codes.

    ``code_count`` defaults to the scheme's minimum sample of
    ``student_count`` and may be larger, up to one code per student.
    """
    scheme = assessment.scheme
    services.lock(assessment)
    if assessment.is_finalised:
        raise AssessmentError(
            "", _("This assessment is finalised; reopen it before opening a student evaluation.")
        )
    if students_component(assessment) is None:
        raise AssessmentError(
            "", _("The scheme has no student evaluation component, so there is nothing to evaluate.")
        )
    if not scheme.dimensions:
        raise AssessmentError(
            "", _("The scheme has no evaluation dimensions; add them to the scheme first.")
        )
    if services.evaluation_of(assessment) is not None:
        raise AssessmentError("", _("This counselor already has a student evaluation; add codes to it, or reopen it if it is closed."))

    students = _whole_number(
        student_count,
        "student_count",
        _("Number of students"),
        scoring.MIN_REPORTED_RESPONSES,
        MAX_STUDENTS,
    )
    needed = scoring.min_sample(students, scheme.min_sample_share)
    codes = needed
    if code_count is not None and str(code_count).strip():
        codes = _whole_number(
            code_count, "code_count", _("Number of codes"), needed, min(students, MAX_CODES_PER_REQUEST)
        )
    elif needed > MAX_CODES_PER_REQUEST:
        raise AssessmentError(
            "code_count",
            _(
                "Number of codes: generate at most %(max)s codes at once, then add the rest.",
                max=MAX_CODES_PER_REQUEST,
            ),
        )

    evaluation = StudentEvaluation(
        assessment_id=assessment.id, student_count=students, opened_by_id=actor.id
    )
    db.session.add(evaluation)
    db.session.flush()
    issued = _issue_codes(evaluation, codes)
    _audit(evaluation, actor, "opened", {"student_count": students, "codes": codes, "minimum": needed})
    return evaluation, issued


def add_codes(evaluation: StudentEvaluation, actor: User, count) -> list[str]:
    """Generate ``count`` more codes for an open evaluation, up to one per student.

    Void codes do not count, so a voided code can be replaced.
    """
    lock(evaluation)
    if not evaluation.is_open:
        raise AssessmentError("", _("This student evaluation is closed; reopen it before adding codes."))
    counts = code_counts(evaluation)
    room = evaluation.student_count - counts.live
    if room < 1:
        raise AssessmentError(
            "code_count",
            _(
                "Number of codes: every one of the %(students)s students already has a code.",
                students=evaluation.student_count,
            ),
        )
    count = _whole_number(
        count, "code_count", _("Number of codes"), 1, min(room, MAX_CODES_PER_REQUEST)
    )
    codes = _issue_codes(evaluation, count)
    _audit(evaluation, actor, "codes_added", {"codes": count, "issued": counts.issued + count})
    return codes


def close(evaluation: StudentEvaluation, actor: User) -> Optional[str]:
    """Close the evaluation and record its score, or return why the score was not recorded.

    The evaluation closes even when its score cannot be recorded yet, for
    example because too few students responded.
    """
    lock(evaluation)
    if not evaluation.is_open:
        raise AssessmentError("", _("This student evaluation is already closed."))
    evaluation.closed_at = now_utc()
    evaluation.closed_by_id = actor.id
    db.session.flush()
    _audit(evaluation, actor, "closed", {"responses": response_count(evaluation)})
    try:
        apply_result(evaluation, actor)
    except AssessmentError as error:
        return error.message
    return None


def reopen(evaluation: StudentEvaluation, actor: User) -> None:
    """Let the unused codes of a closed evaluation work again."""
    lock(evaluation)
    if evaluation.is_open:
        raise AssessmentError("", _("This student evaluation is open already."))
    if evaluation.assessment.is_finalised:
        raise AssessmentError(
            "", _("This assessment is finalised; reopen it before reopening the student evaluation.")
        )
    evaluation.closed_at = None
    evaluation.closed_by_id = None
    db.session.flush()
    _audit(evaluation, actor, "reopened", {})


def apply_result(evaluation: StudentEvaluation, actor: User):
    """Record the evaluation's mean as the student component's score, with the sample size.

    The scheme's minimum sample applies as for a typed score, and at least
    ``scoring.MIN_REPORTED_RESPONSES`` students must have responded. An open
    evaluation records nothing, because its score would change with each
    further response (see the module docstring).
    """
    if evaluation.is_open:
        raise AssessmentError(
            "",
            _(
                "The student evaluation is still open. Close it to record its score; "
                "results are shown only once it is closed."
            ),
        )
    assessment = evaluation.assessment
    summary = summarise(evaluation)
    if summary.score is None:
        raise AssessmentError(
            "",
            ngettext(
                "%(num)s student responded; the evaluation score needs at least "
                "%(min)s responses.",
                "%(num)s students responded; the evaluation score needs at least "
                "%(min)s responses.",
                summary.responses,
                min=scoring.MIN_REPORTED_RESPONSES,
            ),
        )
    return services.record_score(
        assessment,
        students_component(assessment),
        actor,
        str(summary.score),
        summary.responses,
        evaluation.student_count,
        evaluation=evaluation,
    )


def _audit(evaluation: StudentEvaluation, actor: User, verb: str, data: dict) -> None:
    person = evaluation.assessment.user
    audit.record(
        f"student_evaluation.{verb}",
        "annual_assessment",
        evaluation.assessment_id,
        f"{person.full_name}: {evaluation.assessment.scheme.year}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={"evaluation_id": evaluation.id, **data},
    )


# Students: checking a code and submitting


def usable_code(text: str) -> EvaluationCode:
    """Return the code a student typed or followed, or raise CodeRejected."""
    code = find_code(text)
    if code is None:
        raise CodeRejected("unknown")
    if code.is_void:
        raise CodeRejected("void")
    if code.used:
        raise CodeRejected("used")
    if not code.evaluation.is_open:
        raise CodeRejected("closed")
    return code


def submit_response(text: str, scores: dict[int, int], comment: str, today: date) -> None:
    """Store one student's scores and mark the code used, in one transaction.

    ``scores`` maps every dimension id of the scheme to a whole number in
    its range. The code is marked used by a conditional UPDATE, so of two
    submissions of one code, on SQLite or PostgreSQL, only one stores a
    response. No audit row or log line is written, because its time would
    tie the response to the moment the code was used.
    """
    code = usable_code(text)
    evaluation = code.evaluation
    try:
        lock(evaluation)
        # HR may have voided the code or closed the evaluation since the check.
        db.session.refresh(code)
    except sa.exc.InvalidRequestError:
        # HR discarded the evaluation, which deleted its rows, while this
        # request waited for the lock.
        raise CodeRejected("unknown") from None
    if code.is_void:
        raise CodeRejected("void")
    if not evaluation.is_open:
        raise CodeRejected("closed")
    dimensions = evaluation.assessment.scheme.dimensions
    _check_scores(dimensions, scores)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise AssessmentError(
            "comment", _("Comment: shorten it to at most %(max)s characters.", max=MAX_COMMENT)
        )

    marked = db.session.execute(
        sa.update(EvaluationCode)
        .where(
            EvaluationCode.id == code.id,
            EvaluationCode.used.is_(False),
            EvaluationCode.voided_at.is_(None),
        )
        .values(used=True)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:
        raise CodeRejected("used")

    response = EvaluationResponse(evaluation_id=evaluation.id, submitted_on=today)
    for dimension in dimensions:
        response.answers.append(
            EvaluationAnswer(dimension_id=dimension.id, score=scores[dimension.id])
        )
    db.session.add(response)
    if comment:
        db.session.add(EvaluationComment(evaluation_id=evaluation.id, body=comment))
    db.session.flush()


def _check_scores(dimensions: list[EvaluationDimension], scores: dict[int, int]) -> None:
    for dimension in dimensions:
        value = scores.get(dimension.id)
        if value is None or not dimension.min_score <= value <= dimension.max_score:
            raise AssessmentError(
                f"dimension_{dimension.id}",
                _(
                    "%(name)s: choose a score from %(low)s to %(high)s.",
                    name=dimension.name,
                    low=dimension.min_score,
                    high=dimension.max_score,
                ),
            )
    if set(scores) - {dimension.id for dimension in dimensions}:
        raise ValueError("scores for dimensions outside the scheme")


# Aggregates


@dataclass(frozen=True)
class DimensionResult:
    name: str
    min_score: int
    max_score: int
    #: Mean score on the dimension's own range, None while too few responded.
    mean: Optional[Decimal]


@dataclass(frozen=True)
class Summary:
    codes: CodeCounts
    responses: int
    dimensions: list[DimensionResult]
    #: The evaluation score from 0 to 100, None while too few responded.
    score: Optional[Decimal]
    #: Comments sorted by text, None while too few responded.
    comments: Optional[list[str]]


def response_count(evaluation: StudentEvaluation) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(EvaluationResponse.id)).where(
            EvaluationResponse.evaluation_id == evaluation.id
        )
    )


def _dimension_totals(evaluation: StudentEvaluation) -> dict[int, int]:
    """Return the sum of the scores per dimension id over all responses."""
    rows = db.session.execute(
        sa.select(EvaluationAnswer.dimension_id, sa.func.sum(EvaluationAnswer.score))
        .join(EvaluationResponse, EvaluationResponse.id == EvaluationAnswer.response_id)
        .where(EvaluationResponse.evaluation_id == evaluation.id)
        .group_by(EvaluationAnswer.dimension_id)
    )
    return {dimension_id: int(total) for dimension_id, total in rows}


def summarise(evaluation: StudentEvaluation) -> Summary:
    """Return the evaluation's aggregates, hiding them while it is open or below the reporting minimum."""
    responses = response_count(evaluation)
    codes = code_counts(evaluation)
    dimensions = evaluation.assessment.scheme.dimensions
    if evaluation.is_open or responses < scoring.MIN_REPORTED_RESPONSES:
        hidden = [DimensionResult(d.name, d.min_score, d.max_score, None) for d in dimensions]
        return Summary(codes, responses, hidden, None, None)

    totals = _dimension_totals(evaluation)
    results = [
        DimensionResult(
            d.name,
            d.min_score,
            d.max_score,
            scoring.round_half_up(scoring.dimension_mean(totals.get(d.id, 0), responses)),
        )
        for d in dimensions
    ]
    specs = services.dimension_specs(evaluation.assessment.scheme)
    score = scoring.evaluation_score(
        [(spec, totals.get(d.id, 0)) for spec, d in zip(specs, dimensions)], responses
    )
    comments = sorted(
        db.session.scalars(
            sa.select(EvaluationComment.body).where(
                EvaluationComment.evaluation_id == evaluation.id
            )
        )
    )
    return Summary(codes, responses, results, score, comments)
