"""Scoring of performance tasks: score sheets, aggregation, moderation and release.

Every score change (a sheet saved, a final score set, a result released)
writes an audit row. A released score notifies the learner and adds
competency evidence.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from assessments import scoring
from assessments.tasks import MAX_TEXT, TaskError
from courses import teaching
from assessments.tasks_models import (
    CriterionMark,
    PerformanceTask,
    ScoreSheet,
    TaskSubmission,
)
from lms import audit, revisions
from lms.accounts.models import Role, User
from lms.competencies import evidence
from lms.input_ranges import typed_decimal
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import join_names
from lms.notifications import services as notifications
from lms.records.services import local_date
from lms.stored_text import stored_gettext


def _exact(value):
    """Return the score as exact text with at least two decimals: 4.00, 3.75, 3.3333.

    A score read back from its NUMERIC column carries the column's scale
    (3.75000000), and an audit entry should read the same whichever way the
    value arrived.
    """
    if value is None:
        return None
    exact = Decimal(value).normalize()
    if exact.as_tuple().exponent > -2:
        exact = exact.quantize(Decimal("0.01"))
    return format(exact, "f")


def candidate_label(submission: TaskSubmission, viewer: User) -> str:
    """Return the candidate's name, or the anonymous code if the task is blind.

    The moderator of a blind task still sees the name.
    """
    if submission.task.blind_candidates and not is_moderator(viewer, submission.task):
        return submission.anonymous_code
    return submission.user.full_name


# Scoring --------------------------------------------------------------------------


def sheet_total(sheet: ScoreSheet) -> Optional[Decimal]:
    """Return the exact total of a scored sheet: the mean of its role rubric totals."""
    if sheet.scored_at is None:
        return None
    by_rubric: dict[int, Decimal] = {}
    for mark in sheet.marks:
        points = mark.criterion.weight * mark.level.points
        rubric_id = mark.criterion.rubric_id
        by_rubric[rubric_id] = by_rubric.get(rubric_id, Decimal(0)) + points
    return scoring.role_mean(list(by_rubric.values()))


def save_sheet(
    sheet: ScoreSheet, chosen: dict[int, str], comment: str, actor: User
) -> Decimal:
    """Save one level per criterion of every task rubric; return the new exact total.

    Raises TaskError once the result is released, and when ``actor`` is a
    trainer who does not teach the task's course. It also raises when
    ``actor`` is no longer on the task's panel, because a removed
    assessor's scored sheet still counts but may not change.
    """
    submission = sheet.submission
    if submission.released_at is not None:
        raise TaskError(_("The result is released; scores can no longer change."))
    if not grades_course(actor, submission.task):
        raise TaskError(
            _(
                "You do not teach the course of this task, so you cannot score it. "
                "Ask an administrator to add you as a trainer of a class that offers it."
            )
        )
    if not on_panel(submission.task, actor):
        raise TaskError(
            _(
                "You are no longer on the assessor panel of this task, so your "
                "score can no longer change. Ask the task's moderator to add you again."
            )
        )
    marks = _chosen_levels(submission, chosen)

    before = sheet_total(sheet)
    sheet.marks.clear()
    db.session.flush()
    for criterion, level in marks:
        sheet.marks.append(CriterionMark(criterion_id=criterion.id, level_id=level.id))
    sheet.comment = (comment or "").strip()[:MAX_TEXT]
    sheet.scored_at = now_utc()
    db.session.flush()
    db.session.refresh(sheet)
    total = sheet_total(sheet)

    audit.record(
        "task.scored",
        "score_sheet",
        sheet.id,
        f"{submission.anonymous_code}: "
        f"{scoring.display(before)} -> {scoring.display(total)}",
        actor_id=actor.id,
        institution_id=submission.task.institution_id,
        data={
            "submission_id": submission.id,
            "before": _exact(before),
            "after": _exact(total),
        },
    )
    return total


def _chosen_levels(submission: TaskSubmission, chosen: dict[int, str]) -> list:
    """Return (criterion, level) for every criterion, or raise naming those unset."""
    missing = []
    marks = []
    for rubric in submission.task.rubrics:
        for criterion in rubric.criteria:
            raw = str(chosen.get(criterion.id, ""))
            level = next((lv for lv in criterion.levels if str(lv.id) == raw), None)
            if level is None:
                missing.append(criterion.title)
            else:
                marks.append((criterion, level))
    if missing:
        names = join_names(missing)
        raise TaskError(_("Choose a level for: %(criteria)s.", criteria=names))
    return marks


@dataclass(frozen=True)
class PanelSummary:
    totals: list[Decimal]
    assigned: int
    aggregate: Optional[Fraction]
    divergent: bool

    @property
    def complete(self) -> bool:
        return self.assigned > 0 and len(self.totals) == self.assigned


def panel_summary(submission: TaskSubmission) -> PanelSummary:
    """Aggregate the scored sheets of a submission by the task's method."""
    totals = [t for t in (sheet_total(s) for s in submission.sheets) if t is not None]
    task = submission.task
    return PanelSummary(
        totals=totals,
        assigned=len(submission.sheets),
        aggregate=scoring.aggregate(totals, task.aggregation),
        divergent=scoring.is_divergent(totals, task.divergence_margin),
    )


def criterion_means(submission: TaskSubmission) -> list[tuple]:
    """Return (criterion, exact mean points over the scored sheets) per criterion."""
    scored = [sheet for sheet in submission.sheets if sheet.scored_at is not None]
    rows = []
    for rubric in submission.task.rubrics:
        for criterion in rubric.criteria:
            points = [
                Fraction(mark.criterion.weight * mark.level.points)
                for sheet in scored
                for mark in sheet.marks
                if mark.criterion_id == criterion.id
            ]
            mean = sum(points, Fraction(0)) / len(points) if points else None
            rows.append((criterion, mean))
    return rows


# Moderation and release --------------------------------------------------------------


def on_panel(task: PerformanceTask, user: User) -> bool:
    """Return whether ``user`` is a member of the task's assessor panel."""
    return any(member.user_id == user.id for member in task.assessors)


def grades_course(user: User, task: PerformanceTask) -> bool:
    """Return whether the course teaching rule lets ``user`` grade ``task``.

    A trainer grades only tasks of courses they teach (``courses.teaching``).
    Administrators, and the HR officers and other people whom a task's
    managers name as its moderator or assessors, are not limited by it.
    """
    return user.role is not Role.TRAINER or teaching.teaches(user, task.course)


def is_moderator(user: User, task: PerformanceTask) -> bool:
    """Return whether ``user`` manages ``task``.

    A manager edits the task, chooses its assessor panel, sees every score and
    sets final scores. That is the task's moderator, as long as a trainer
    moderator teaches the task's course, and administrators of its
    institution who are not on its panel, so that no assessor sees the other
    assessors' scores or chooses who scores with them.
    """
    if user.id == task.moderator_id:
        return grades_course(user, task)
    if user.role is not Role.ADMIN or user.institution_id != task.institution_id:
        return False
    return not any(member.user_id == user.id for member in task.assessors)


class ModerationErrors(TaskError):
    """Every invalid field of a final-score form, as {field name: message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def moderate(
    submission: TaskSubmission,
    raw_score: str,
    reason: str,
    feedback: str,
    actor: User,
    version: Optional[str] = None,
) -> Decimal:
    """Set the final score; an empty score takes the rounded panel score.

    A reason is required when the final score overrides the panel score,
    that is when it differs from the rounded panel aggregate or when no
    assessor has scored. Raises ``ModerationErrors`` with every invalid
    field at once. ``version`` is the ``grade_version`` the page showed.
    Raises ``revisions.StaleGrade`` when another final score was saved
    since, and None skips that check.
    """
    if submission.released_at is not None:
        raise TaskError(
            _("The result is released; the final score can no longer change.")
        )
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    final = None
    try:
        final = _final_score(submission, (raw_score or "").strip())
    except TaskError as error:
        errors["final_score"] = str(error)
    aggregate = panel_summary(submission).aggregate
    panel = scoring.rounded(aggregate) if aggregate is not None else None
    overrides = final is None or panel is None or final != panel
    if not reason and overrides:
        errors["reason"] = _(
            "Reason: required when the final score differs from the panel score. "
            "Say why, e.g. “assessor 2 misread criterion 3”."
        )
    if errors:
        raise ModerationErrors(errors)
    if not revisions.advance(submission, "grade_version", version):
        raise revisions.StaleGrade()

    before = submission.final_score
    submission.final_score = final
    submission.final_reason = reason[:MAX_TEXT]
    submission.feedback = (feedback or "").strip()[:MAX_TEXT]
    submission.moderated_by_id = actor.id
    submission.moderated_at = now_utc()
    db.session.flush()

    audit.record(
        "task.moderated",
        "task_submission",
        submission.id,
        f"{submission.anonymous_code}: "
        f"{scoring.display(before)} -> {scoring.display(final)}: {reason[:200]}",
        actor_id=actor.id,
        institution_id=submission.task.institution_id,
        data={
            "before": _exact(before),
            "after": _exact(final),
            "panel": _exact(panel),
            "reason": reason,
        },
    )
    return final


def _final_score(submission: TaskSubmission, raw_score: str) -> Decimal:
    """Parse the moderator's score, or round the panel aggregate when it is empty."""
    if not raw_score:
        aggregate = panel_summary(submission).aggregate
        if aggregate is None:
            raise TaskError(
                _("Final score: no assessor has scored yet, so enter the score.")
            )
        return scoring.rounded(aggregate)
    maximum = submission.task.max_points
    final = typed_decimal(raw_score)
    if (
        final is None
        or not final.is_finite()
        or final < 0
        or final > maximum
        or final.as_tuple().exponent < -2
    ):
        raise TaskError(
            _(
                "Final score: enter a number from 0 to %(max)s "
                "with at most two decimal places.",
                max=scoring.display(maximum),
            )
        )
    return final


def release(submission: TaskSubmission, actor: User) -> bool:
    """Publish the moderated result to the learner once; return whether this did it."""
    if submission.final_score is None:
        raise TaskError(_("Set the final score before releasing the result."))
    released_at = now_utc()
    result = db.session.execute(
        sa.update(TaskSubmission)
        .where(TaskSubmission.id == submission.id, TaskSubmission.released_at.is_(None))
        .values(released_at=released_at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(submission)
    task = submission.task
    audit.record(
        "task.released", "task_submission", submission.id,
        f"{task.title}: {scoring.display(submission.final_score)}",
        actor_id=actor.id, institution_id=task.institution_id,
        data={
            "final_score": str(submission.final_score),
            "user_id": submission.user_id,
        },
    )
    _notify_release(submission)
    if task.max_points > 0:
        evidence.record_evidence(
            submission.user_id,
            "task_submission",
            submission.id,
            [item.id for item in task.competencies],
            submission.final_score / task.max_points,
            local_date(submission.user, released_at),
        )
    return True


def release_moderated(task: PerformanceTask, actor: User) -> int:
    """Release every moderated, unreleased result of the task; return how many."""
    pending = db.session.scalars(
        sa.select(TaskSubmission)
        .where(
            TaskSubmission.task_id == task.id,
            TaskSubmission.final_score.is_not(None),
            TaskSubmission.released_at.is_(None),
        )
        .order_by(TaskSubmission.id)
    ).all()
    return sum(1 for submission in pending if release(submission, actor))


def without_final_score(task: PerformanceTask) -> int:
    """Return how many unreleased submissions of the task have no final score yet."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TaskSubmission)
        .where(
            TaskSubmission.task_id == task.id,
            TaskSubmission.final_score.is_(None),
            TaskSubmission.released_at.is_(None),
        )
    )


def _notify_release(submission: TaskSubmission) -> None:
    """Queue the learner's in-app and e-mail notice, shown in the reader's language."""
    task = submission.task
    title = stored_gettext("Result released: %(task)s", task=task.title)
    body = stored_gettext(
        "Your score is %(score)s of %(max)s. Open the task to read the feedback.",
        score=scoring.display(submission.final_score),
        max=scoring.display(task.max_points),
    )
    notifications.enqueue(
        submission.user, "task_result", "task_submission", submission.id, title, body,
        link=f"/tasks/{task.id}",
    )


def passed(submission: TaskSubmission) -> Optional[bool]:
    """Return whether a released score reaches the pass mark; None before release."""
    if submission.released_at is None:
        return None
    task = submission.task
    return submission.final_score * 100 >= task.max_points * task.pass_mark


def released_result(task: PerformanceTask, user: User) -> Optional[TaskSubmission]:
    """Return the user's latest released submission of ``task``."""
    return db.session.scalar(
        sa.select(TaskSubmission)
        .where(
            TaskSubmission.task_id == task.id,
            TaskSubmission.user_id == user.id,
            TaskSubmission.released_at.is_not(None),
        )
        .order_by(TaskSubmission.number.desc())
        .limit(1)
    )
