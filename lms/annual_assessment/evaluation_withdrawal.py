"""Withdrawing parts of an online student evaluation: voiding codes and discarding.

HR voids a code that was handed to the wrong student or leaked, before a
student uses it. The code row stays, marked void, so the numbers in the
code download keep pointing at the same codes. HR discards a whole
evaluation that was opened by mistake while its score is not yet recorded
in the assessment. Its codes, responses and comments are deleted, and the
audit entry keeps their counts and the reason.

Functions flush and leave the commit to the caller, like ``services``.
"""

import re
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.accounts.models import User
from lms.annual_assessment import services
from lms.annual_assessment.evaluation import (
    AssessmentError,
    _audit,
    code_counts,
    hash_code,
    lock,
    normalise_code,
    response_count,
    students_component,
)
from lms.annual_assessment.models import (
    ComponentScore,
    EvaluationAnswer,
    EvaluationCode,
    EvaluationComment,
    EvaluationResponse,
    StudentEvaluation,
)
from lms.db import now_utc
from lms.extensions import db

#: Maximum number of codes one request voids.
MAX_VOID_PER_REQUEST = 500
#: Maximum length of the codes field read, in characters. 500 hyphenated
#: codes with one separator each take 15,000.
MAX_VOID_INPUT = 16000
MAX_REASON = 500

#: Commas, semicolons and white space, in ASCII and full-width forms, separate
#: the entries of the codes field. Codes themselves contain only letters,
#: digits and hyphens.
_SEPARATORS = re.compile(r"[\s,;，；、]+")


# Voiding codes


@dataclass(frozen=True)
class _Target:
    number: int
    code: EvaluationCode


def _field_error(message: str) -> AssessmentError:
    return AssessmentError("codes", _("Codes to void: %(problem)s", problem=message))


def _code_by_number(evaluation: StudentEvaluation, number: int) -> Optional[EvaluationCode]:
    return db.session.scalar(
        sa.select(EvaluationCode)
        .where(EvaluationCode.evaluation_id == evaluation.id)
        .order_by(EvaluationCode.id)
        .offset(number - 1)
        .limit(1)
    )


def _number_of(code: EvaluationCode) -> int:
    """Return the code's number in the download: its position by id in its evaluation."""
    return db.session.scalar(
        sa.select(sa.func.count(EvaluationCode.id)).where(
            EvaluationCode.evaluation_id == code.evaluation_id,
            EvaluationCode.id <= code.id,
        )
    )


def _find_target(evaluation: StudentEvaluation, entry: str, issued: int) -> _Target:
    """Return the code that one entry of the codes field names, or raise AssessmentError."""
    if entry.isascii() and entry.isdigit():
        number = int(entry)
        code = _code_by_number(evaluation, number) if 1 <= number <= issued else None
        if code is None:
            raise _field_error(
                _(
                    "there is no code number %(number)s. This evaluation has codes "
                    "numbered 1 to %(issued)s.",
                    number=entry[:20],
                    issued=issued,
                )
            )
        return _Target(number, code)

    normalised = normalise_code(entry)
    if normalised is None:
        raise _field_error(
            _(
                "“%(entry)s” is neither a code number nor an access code. Enter the "
                "numbers from the No. column of the code file, such as 3, 7, or the "
                "codes themselves.",
                entry=entry[:40],
            )
        )
    code = db.session.scalar(
        sa.select(EvaluationCode).where(
            EvaluationCode.token_hash == hash_code(normalised),
            EvaluationCode.evaluation_id == evaluation.id,
        )
    )
    if code is None:
        raise _field_error(
            _("the access code %(code)s is not a code of this evaluation.", code=entry[:40])
        )
    return _Target(_number_of(code), code)


def _targets(evaluation: StudentEvaluation, text: str, issued: int) -> list[_Target]:
    entries = [entry for entry in _SEPARATORS.split((text or "")[:MAX_VOID_INPUT]) if entry]
    if not entries:
        raise _field_error(_("enter at least one code number or access code."))
    if len(entries) > MAX_VOID_PER_REQUEST:
        raise _field_error(
            _("enter at most %(max)s codes at once.", max=MAX_VOID_PER_REQUEST)
        )

    targets = []
    seen = set()
    for entry in entries:
        target = _find_target(evaluation, entry, issued)
        if target.code.id in seen:
            raise _field_error(
                _(
                    "code number %(number)s is listed twice. List each code once.",
                    number=target.number,
                )
            )
        seen.add(target.code.id)
        targets.append(target)
    return targets


def _check_voidable(target: _Target) -> None:
    if target.code.used:
        raise _field_error(
            _(
                "code number %(number)s was already used, so it cannot be voided. "
                "Its response is anonymous and stays in the evaluation.",
                number=target.number,
            )
        )
    if target.code.is_void:
        raise _field_error(
            _("code number %(number)s is void already.", number=target.number)
        )


def void_codes(evaluation: StudentEvaluation, actor: User, text: str) -> list[int]:
    """Void the unused codes that ``text`` lists by number or code, and return their numbers.

    Either every listed code is voided or, on the first invalid entry, none.
    The evaluation's row lock makes a student's submission of the same code
    wait, so a code is either used or void, never both.
    """
    lock(evaluation)
    counts = code_counts(evaluation)
    targets = _targets(evaluation, text, counts.issued)
    for target in targets:
        db.session.refresh(target.code)
        _check_voidable(target)

    moment = now_utc()
    for target in targets:
        target.code.voided_at = moment
        target.code.voided_by_id = actor.id
    db.session.flush()

    numbers = sorted(target.number for target in targets)
    _audit(
        evaluation,
        actor,
        "codes_voided",
        {
            "numbers": numbers,
            "count": len(numbers),
            "void": counts.void + len(numbers),
            "issued": counts.issued,
        },
    )
    return numbers


# Discarding the evaluation


def is_applied(evaluation: StudentEvaluation) -> bool:
    """Return whether the evaluation's score is recorded on the student component.

    Once an evaluation exists, ``services.record_score`` writes the student
    component only from it, so a score row written at or after the opening
    came from this evaluation. A score entered by hand before the evaluation
    opened does not count.
    """
    component = students_component(evaluation.assessment)
    if component is None:
        return False
    return (
        db.session.scalar(
            sa.select(ComponentScore.id).where(
                ComponentScore.assessment_id == evaluation.assessment_id,
                ComponentScore.component_id == component.id,
                ComponentScore.entered_at >= evaluation.opened_at,
            )
        )
        is not None
    )


def _check_reason(reason) -> str:
    text = (reason or "").strip()
    if not text:
        raise AssessmentError(
            "reason", _("Reason: say why the student evaluation is discarded.")
        )
    if len(text) > MAX_REASON:
        raise AssessmentError(
            "reason", _("Reason: shorten it to at most %(max)s characters.", max=MAX_REASON)
        )
    return text


def _delete_rows(evaluation: StudentEvaluation) -> None:
    """Delete the evaluation with its answers, responses, comments and codes."""
    responses = sa.select(EvaluationResponse.id).where(
        EvaluationResponse.evaluation_id == evaluation.id
    )
    db.session.execute(
        sa.delete(EvaluationAnswer).where(EvaluationAnswer.response_id.in_(responses))
    )
    db.session.execute(
        sa.delete(EvaluationResponse).where(EvaluationResponse.evaluation_id == evaluation.id)
    )
    db.session.execute(
        sa.delete(EvaluationComment).where(EvaluationComment.evaluation_id == evaluation.id)
    )
    db.session.execute(
        sa.delete(EvaluationCode).where(EvaluationCode.evaluation_id == evaluation.id)
    )
    db.session.delete(evaluation)
    db.session.flush()


def discard(evaluation: StudentEvaluation, actor: User, reason) -> None:
    """Delete an evaluation whose score is not recorded, with its codes and responses.

    The assessment keeps all its other data, including a student score
    entered by hand before the evaluation opened. HR may open a new
    evaluation afterwards.
    """
    text = _check_reason(reason)
    assessment = evaluation.assessment
    # The evaluation first, then the assessment: ``close`` takes them in
    # this order too.
    lock(evaluation)
    services.lock(assessment)
    # NOTE: no operation removes a recorded student score, so an evaluation
    # whose score was recorded stays for good. HR correct it by reopening the
    # evaluation and recording its score again.
    if is_applied(evaluation):
        raise AssessmentError(
            "",
            _(
                "This student evaluation cannot be discarded because its score is "
                "recorded in the assessment, and its responses are the evidence for "
                "that score. To correct the score, reopen the assessment if it is "
                "finalised, reopen the evaluation, collect the missing responses and "
                "record the score again."
            ),
        )
    if assessment.is_finalised:
        raise AssessmentError(
            "", _("This assessment is finalised; reopen it before discarding the student evaluation.")
        )

    counts = code_counts(evaluation)
    responses = response_count(evaluation)
    data = {
        "reason": text,
        "issued": counts.issued,
        "used": counts.used,
        "void": counts.void,
        "responses": responses,
        "was_open": evaluation.is_open,
    }
    comments = db.session.scalar(
        sa.select(sa.func.count(EvaluationComment.id)).where(
            EvaluationComment.evaluation_id == evaluation.id
        )
    )
    _audit(evaluation, actor, "discarded", {**data, "comments": comments})
    _delete_rows(evaluation)
